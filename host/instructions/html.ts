import { type Instructions, LENGTH_NOTE, MARK_EVERY } from './model';

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

const CSS = `@page{size:A4;margin:15mm 14mm 16mm}
*{box-sizing:border-box}
body{font:12pt/1.35 Helvetica,Arial,sans-serif;color:#000;margin:0 auto;max-width:182mm}
h1{font-size:20pt;margin:0 0 4mm}h2{font-size:15pt;margin:0 0 3mm}
section{break-before:page}section:first-of-type{break-before:auto}
.sum td,.sum th{text-align:left;padding:1mm 4mm 1mm 0;vertical-align:middle}
.sw{display:inline-block;width:9mm;height:5mm;border:1px solid #000;vertical-align:middle}
.chg{break-inside:avoid;break-after:avoid;border:2px solid #000;margin:4mm 0 2mm;padding:2mm 3mm;font-size:14pt;font-weight:bold;display:flex;align-items:center;gap:4mm}
.chg .sw{width:16mm;height:10mm}
table.seq{border-collapse:collapse;table-layout:fixed;width:100%;font-size:15pt;font-variant-numeric:tabular-nums}
.seq tr{break-inside:avoid}
.seq col.l{width:14mm}
.seq th{font-size:9pt;font-weight:normal;color:#555;text-align:right;padding-right:3mm}
.seq td{text-align:right;padding:.6mm 2.5mm .6mm 0;border-bottom:1px solid #ddd}
.seq tr:nth-child(5n) td{border-bottom:1px solid #888}
.mk{font-size:11pt;font-weight:bold;border-top:3px double #000;padding:1mm 0;margin:1mm 0}
@media screen{body{padding:8mm}}`;

/** Self-contained A4 page: summary, then the hook sequence with colour-change banners and markers. */
export function renderHtml(ins: Instructions): string {
  const o: string[] = [];
  o.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stringing instructions: ${esc(ins.title)}</title><style>${CSS}</style></head><body>`);
  o.push(`<section><h1>Stringing instructions</h1><table class="sum">`);
  o.push(`<tr><th>Plan</th><td>${esc(ins.title)}</td></tr>`);
  o.push(`<tr><th>Board</th><td>${esc(ins.board)}</td></tr>`);
  o.push(`<tr><th>Hooks</th><td>${ins.hooks} (numbered 0 to ${ins.hooks - 1})</td></tr>`);
  o.push(`<tr><th>Lines</th><td>${ins.lines}</td></tr>`);
  o.push(`<tr><th>Thread</th><td>${ins.totalMetres.toFixed(1)} m in all</td></tr></table>`);
  o.push(`<h2>Thread per colour</h2><table class="sum"><tr><th></th><th>Colour</th><th>Lines</th><th>Thread</th></tr>`);
  for (const c of ins.colors) {
    o.push(`<tr><td><span class="sw" style="background:${c.hex}"></span></td><td>${c.index + 1}: ${c.hex}</td><td>${c.lines}</td><td>${c.metres.toFixed(1)} m</td></tr>`);
  }
  o.push(`</table><p>${esc(LENGTH_NOTE)}</p>`);
  o.push(`<h2>How to read the sequence</h2><p>${esc(ins.numbering)}</p>`);
  o.push(`<p>Lines are counted from 1. Each row starts with the number of its first line (small, left) and lists the hook each line goes to, in order: take the thread from the hook you are at to the next number, wrap it, go on. A boxed banner marks where a colour starts (tie on) or changes (tie off and tie on at the same hook); a double rule marks every ${MARK_EVERY} lines.</p>`);
  if (ins.lines === 0) o.push('<p><b>This plan has no lines: nothing to string.</b></p>');
  o.push('</section>');
  if (ins.lines > 0) {
    o.push('<section><h2>Hook sequence</h2>');
    let open = false;
    const close = () => { if (open) o.push('</table>'); open = false; };
    for (const it of ins.items) {
      if (it.kind === 'change') {
        close();
        const sw = `<span class="sw" style="background:${it.hex}"></span>`;
        const text = it.first
          ? `Start: tie on colour ${it.color + 1} (${it.hex}) at hook ${it.hook}`
          : `Line ${it.line + 1}: colour change: tie off at hook ${it.hook}, tie on colour ${it.color + 1} (${it.hex}) at hook ${it.hook}`;
        o.push(`<div class="chg${it.first ? '' : ' run'}" data-line="${it.line + 1}" data-hook="${it.hook}" data-color="${it.hex}">${sw}<span>${text}</span></div>`);
      } else if (it.kind === 'mark') {
        close();
        o.push(`<div class="mk" data-done="${it.done}">${it.done} lines done · ${it.total - it.done} to go (${Math.floor((100 * it.done) / it.total)} %)</div>`);
      } else {
        // Multi-colour plans: a bar in the run's colour left of every row, so the colour shows on any page.
        const bar = ins.colors.length > 1 ? ` style="border-left:3mm solid ${ins.colors[it.color].hex}"` : '';
        if (!open) { o.push(`<table class="seq"><colgroup><col class="l"${bar}><col span="10"></colgroup>`); open = true; }
        o.push(`<tr><th>${it.first}</th><td>${it.hooks.join('<td>')}</tr>`);
      }
    }
    close();
    o.push(`<div class="mk">All ${ins.lines} lines done: tie off at hook ${ins.path[ins.path.length - 1]}.</div></section>`);
  }
  o.push('</body></html>\n');
  return o.join('\n');
}
