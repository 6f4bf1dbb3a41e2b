/** The report's stylesheet (inlined into the page). */
export const REPORT_STYLE = `
:root { --fg: #1b1f24; --muted: #57606a; --rule: #d0d7de; --floor: #f6f8fa; --best: #0b6e2e; --bad: #b42318; --accent: #0550ae; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
#report { max-width: 1400px; margin: 0 auto; padding: 16px 24px 48px; }
header h1 { font-size: 22px; margin: 8px 0 2px; }
header p { margin: 0; color: var(--muted); }
nav { margin: 12px 0 4px; display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav a { color: var(--accent); text-decoration: none; }
section { margin-top: 28px; }
h2 { font-size: 18px; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.note { color: var(--muted); margin: 4px 0; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 6px 0; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #eaeef2; text-align: left; vertical-align: top; }
th { border-bottom: 1px solid var(--rule); font-weight: 600; white-space: nowrap; }
td .sub { display: block; color: var(--muted); font-size: 12px; font-weight: normal; white-space: nowrap; }
tr.floor td { background: var(--floor); color: var(--muted); font-style: italic; }
tr.mean td { font-weight: 500; }
tr.block-start td { border-top: 1px solid var(--rule); }
td.best { color: var(--best); font-weight: 600; }
td.not-above-floor { color: var(--bad); }
td.verdict-better { color: var(--best); font-weight: 600; }
td.verdict-worse { color: var(--bad); font-weight: 600; }
td.code { font: 12px/1.35 ui-monospace, SFMono-Regular, Menlo, monospace; max-width: 520px; overflow-wrap: anywhere; }
td.nowrap { white-space: nowrap; }
.chart { margin: 8px 0 4px; }
.controls { display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center; margin: 8px 0; }
.controls label { color: var(--muted); }
.scatter-row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.detail { min-width: 260px; border: 1px solid var(--rule); border-radius: 6px; padding: 8px 12px; }
.detail .images { display: flex; gap: 8px; flex-wrap: wrap; }
.detail figure { margin: 0; }
figure figcaption { font-size: 12px; color: var(--muted); max-width: 140px; overflow-wrap: anywhere; }
img.item { image-rendering: pixelated; width: 96px; height: 96px; object-fit: contain; background: #eee; display: block; }
.detail img.item { width: 128px; height: 128px; }
table.grid td { padding: 2px 4px; }
table.grid td.item-id { font: 12px ui-monospace, monospace; white-space: nowrap; }
table.grid tr.selected td { background: #fff8c5; }
table.grid .value { font-size: 12px; color: var(--muted); }
`;
