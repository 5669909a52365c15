import { basename, join } from 'node:path';
import { parseCommand, positionals } from '../args';
import { writeFileAtomic } from '../atomic-write';
import { UserError } from '../errors';
import { renderHtml } from '../instructions/html';
import { buildInstructions } from '../instructions/model';
import { loadPlan } from '../plan/load';
import { createProgress } from '../progress';
import type { Command } from './command';

export const instructionsCommand: Command = {
  name: 'instructions',
  usage: 'instructions PLAN.json -o DIR',
  summary: 'print-ready stringing instructions (docs/instructions.md): DIR/instructions.html (A4 print CSS) and DIR/instructions.pdf: thread per colour, the hook sequence in rows of 10, colour-change banners, a marker every 100 lines',
  async run(argv) {
    const { values, positionals: pos } = parseCommand('instructions', argv, { out: { type: 'string', short: 'o' } });
    const [planFile] = positionals('instructions', pos, ['plan.json']);
    if (!values.out) throw new UserError('instructions: missing -o DIR (where to write instructions.html and instructions.pdf)');
    const plan = loadPlan(planFile);
    const progress = createProgress({ label: 'instructions' });
    const ins = buildInstructions(plan, basename(planFile));
    const html = renderHtml(ins);
    progress.update(0.3);
    // pdfkit is loaded only here: it costs ~0.1 s of start-up for every other command.
    const { renderPdf } = await import('../instructions/pdf');
    const pdf = await renderPdf(ins, { onProgress: (f) => progress.update(0.3 + 0.65 * f) });
    const htmlPath = join(values.out, 'instructions.html');
    const pdfPath = join(values.out, 'instructions.pdf');
    writeFileAtomic(htmlPath, html);
    writeFileAtomic(pdfPath, pdf);
    progress.done();
    const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
    process.stdout.write(`wrote ${htmlPath} (${kb(Buffer.byteLength(html))}) and ${pdfPath} (${kb(pdf.length)}): ${plan.lines.length} lines, ${ins.totalMetres.toFixed(1)} m of thread\n`);
  },
};
