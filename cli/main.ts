import { execute } from '@oclif/core';

export async function main(argv: string[]): Promise<void> {
  await execute({ args: argv, dir: import.meta.url });
}
