// The stylesheet, compiled into webd (no CDN, nothing to install beside the
// binary). Plain CSS; the pages need no script.
namespace rsp::web {
extern const char* const kAppCss;
const char* const kAppCss = R"CSS(
:root { --ink: #1d2733; --muted: #5b6b7c; --line: #d7dee6; --accent: #0b5cad; --bad: #a4161a; --bg: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { background: #fff; border-bottom: 1px solid var(--line); padding: 12px 24px; }
header h1 { margin: 0 0 6px; font-size: 22px; }
nav { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; }
nav a { color: var(--accent); text-decoration: none; font-weight: 600; }
nav .who { color: var(--muted); margin-right: 8px; }
main { padding: 20px 24px; max-width: 1200px; }
table { border-collapse: collapse; width: 100%; background: #fff; margin: 8px 0 16px; }
th, td { border: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: #eef2f6; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
form.card, article.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 16px; max-width: 520px; }
form.card label { display: block; margin: 0 0 10px; }
form.card input, form.card textarea { display: block; width: 100%; padding: 6px; border: 1px solid var(--line); border-radius: 4px; font: inherit; }
form.grid { max-width: 900px; display: grid; grid-template-columns: repeat(3, 1fr); gap: 0 16px; }
form.grid button { grid-column: 1 / -1; justify-self: start; }
form.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin-bottom: 8px; }
form.filters input { width: 120px; padding: 5px; }
form.inline { display: inline; }
button { background: var(--accent); color: #fff; border: 0; border-radius: 4px; padding: 7px 14px; font: inherit; cursor: pointer; }
nav button { background: transparent; color: var(--accent); padding: 0; font-weight: 600; }
.errors { border: 1px solid var(--bad); background: #fdecec; color: var(--bad); padding: 4px 12px; border-radius: 4px; margin-bottom: 12px; }
.error { color: var(--bad); }
.packages { display: flex; flex-wrap: wrap; gap: 16px; }
.package { width: 280px; }
.price { font-size: 20px; font-weight: 700; color: var(--accent); }
.balance { font-size: 17px; }
)CSS";
}  // namespace rsp::web
