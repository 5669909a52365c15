import PDFDocument from 'pdfkit';
import { type Instructions, LENGTH_NOTE, MARK_EVERY } from './model';

const M = 42; // page margin, pt (~15 mm)
const ROW_H = 21;

/** The same content as the HTML as an A4 PDF (standard Helvetica, no embedded fonts). */
export function renderPdf(ins: Instructions, opts: { compress?: boolean; onProgress?: (fraction: number) => void } = {}): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: M, compress: opts.compress ?? true, info: { Title: `Stringing instructions: ${ins.title}`, Producer: 'hookline', CreationDate: new Date(0) } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (c) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const W = doc.page.width - 2 * M;
  const bottom = doc.page.height - M;
  let y = M;
  /** While drawing the sequence: the colour run a new page continues (its header names it). */
  let running: { color: number; hex: string } | null = null;
  const multi = ins.colors.length > 1;
  const need = (h: number) => {
    if (y + h <= bottom) return;
    doc.addPage();
    y = M;
    if (running) {
      const text = `Hook sequence, continued${multi ? `: colour ${running.color + 1} of ${ins.colors.length} (${running.hex})` : ''}`;
      if (multi) swatch(running.hex, M, y, 18, 10);
      doc.font('Helvetica').fontSize(9).fillColor('#555').text(text, multi ? M + 24 : M, y + 1, { lineBreak: false });
      y += 18;
    }
  };
  const para = (text: string, size = 11, font = 'Helvetica') => {
    doc.font(font).fontSize(size).fillColor('#000');
    const h = doc.heightOfString(text, { width: W });
    need(h);
    doc.text(text, M, y, { width: W });
    y += h + 6;
  };
  const swatch = (hex: string, x: number, yy: number, w: number, h: number) => {
    doc.lineWidth(0.8).rect(x, yy, w, h).fillAndStroke(hex, '#000');
    doc.fillColor('#000');
  };

  // Summary page.
  para('Stringing instructions', 20, 'Helvetica-Bold');
  para(`Plan: ${ins.title}`);
  para(`Board: ${ins.board}`);
  para(`Hooks: ${ins.hooks} (numbered 0 to ${ins.hooks - 1})`);
  para(`Lines: ${ins.lines}`);
  para(`Thread: ${ins.totalMetres.toFixed(1)} m in all`);
  y += 6;
  para('Thread per colour', 14, 'Helvetica-Bold');
  for (const c of ins.colors) {
    swatch(c.hex, M, y, 26, 14);
    doc.font('Helvetica').fontSize(11).text(`${c.index + 1}: ${c.hex}    ${c.lines} lines    ${c.metres.toFixed(1)} m`, M + 36, y + 2, { lineBreak: false });
    y += 20;
  }
  para(LENGTH_NOTE);
  y += 6;
  para('How to read the sequence', 14, 'Helvetica-Bold');
  para(ins.numbering);
  para(`Lines are counted from 1. Each row starts with the number of its first line (small, left) and lists the hook each line goes to, in order: take the thread from the hook you are at to the next number, wrap it, go on. A boxed banner marks where a colour starts (tie on) or changes (tie off and tie on at the same hook); a double rule marks every ${MARK_EVERY} lines.`);
  if (ins.lines === 0) { para('This plan has no lines: nothing to string.', 11, 'Helvetica-Bold'); doc.end(); return done; }

  // Hook sequence.
  doc.addPage();
  y = M;
  para('Hook sequence', 15, 'Helvetica-Bold');
  const labelW = 40;
  const colW = (W - labelW) / 10;
  // Rows flow from page to page; a colour change is a banner in place (kept with the next two rows),
  // and on a multi-colour plan every row has a bar in its colour at the left.
  let current = { color: 0, hex: '#000000' };
  ins.items.forEach((it, n) => {
    if (opts.onProgress && n % 200 === 0) opts.onProgress(n / ins.items.length);
    if (it.kind === 'change') {
      running = null; // the banner says which colour
      const text = it.first
        ? `Start: tie on colour ${it.color + 1} (${it.hex}) at hook ${it.hook}`
        : `Line ${it.line + 1}: colour change: tie off at hook ${it.hook}, tie on colour ${it.color + 1} (${it.hex}) at hook ${it.hook}`;
      doc.font('Helvetica-Bold').fontSize(13);
      const h = Math.max(34, doc.heightOfString(text, { width: W - 70 }) + 14);
      need(h + ROW_H * 2);
      doc.lineWidth(2).rect(M, y, W, h).stroke('#000');
      swatch(it.hex, M + 8, y + (h - 22) / 2, 40, 22);
      doc.font('Helvetica-Bold').fontSize(13).fillColor('#000').text(text, M + 58, y + 8, { width: W - 70 });
      y += h + 8;
      current = { color: it.color, hex: it.hex };
      running = current;
    } else if (it.kind === 'mark') {
      need(24 + ROW_H);
      doc.lineWidth(0.8).moveTo(M, y + 2).lineTo(M + W, y + 2).stroke('#000');
      doc.moveTo(M, y + 5).lineTo(M + W, y + 5).stroke('#000');
      doc.font('Helvetica-Bold').fontSize(11).fillColor('#000')
        .text(`${it.done} lines done · ${it.total - it.done} to go (${Math.floor((100 * it.done) / it.total)} %)`, M, y + 9, { lineBreak: false });
      y += 26;
    } else {
      need(ROW_H);
      if (multi) doc.lineWidth(0.4).rect(M, y + 2, 5, ROW_H - 5).fillAndStroke(current.hex, '#000');
      doc.font('Helvetica').fontSize(8).fillColor('#555').text(String(it.first), M, y + 5, { width: labelW - 8, align: 'right', lineBreak: false });
      doc.font('Helvetica').fontSize(15).fillColor('#000');
      it.hooks.forEach((h, k) => {
        doc.text(String(h), M + labelW + k * colW, y + 2, { width: colW - 6, align: 'right', lineBreak: false });
      });
      doc.lineWidth(0.4).moveTo(M, y + ROW_H - 1).lineTo(M + W, y + ROW_H - 1).stroke('#ccc');
      y += ROW_H;
    }
  });
  running = null;
  need(30);
  doc.font('Helvetica-Bold').fontSize(12).fillColor('#000').text(`All ${ins.lines} lines done: tie off at hook ${ins.path[ins.path.length - 1]}.`, M, y + 8, { lineBreak: false });
  doc.end();
  return done;
}

