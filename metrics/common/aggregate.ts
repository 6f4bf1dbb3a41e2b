/** Mean of per-item values. NaN items stay visible: the mean is then NaN, and core refuses to tabulate it. */
export function meanOf(perItem: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < perItem.length; i++) sum += perItem[i]!;
  return sum / perItem.length;
}
