// The little of pdfkit's API host/instructions/pdf.ts uses (pdfkit ships no TypeScript types).
declare module 'pdfkit' {
  interface TextOptions { width?: number; align?: 'left' | 'right' | 'center'; lineBreak?: boolean; continued?: boolean }
  export default class PDFDocument {
    constructor(opts?: { size?: string; margin?: number; compress?: boolean; autoFirstPage?: boolean; info?: Record<string, string | Date> });
    page: { width: number; height: number };
    y: number;
    on(event: 'data', cb: (chunk: Buffer) => void): this;
    on(event: 'end', cb: () => void): this;
    on(event: 'error', cb: (e: Error) => void): this;
    addPage(): this;
    font(name: string): this;
    fontSize(size: number): this;
    fillColor(color: string): this;
    strokeColor(color: string): this;
    lineWidth(w: number): this;
    text(text: string, x?: number, y?: number, opts?: TextOptions): this;
    heightOfString(text: string, opts?: TextOptions): number;
    rect(x: number, y: number, w: number, h: number): this;
    moveTo(x: number, y: number): this;
    lineTo(x: number, y: number): this;
    fill(color?: string): this;
    stroke(color?: string): this;
    fillAndStroke(fill?: string, stroke?: string): this;
    end(): void;
  }
}
