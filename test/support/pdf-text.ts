/**
 * The text of a PDF written by pdfkit with `compress: false` and its standard fonts
 * (WinAnsi): every `[<hex> kern <hex> …] TJ` of the content streams, decoded, joined with
 * single spaces (so a mention wrapped over two lines is still found). Enough to assert the
 * mentions of an invoice without poppler.
 */
// WinAnsi (cp1252) 0x80–0x9F; other bytes are Latin-1.
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ';
const decode = (bytes: Buffer): string => [...bytes].map((b) => (b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80]! : String.fromCharCode(b))).join('');

export function pdfText(pdf: Buffer): string {
  const raw = pdf.toString('latin1');
  const out: string[] = [];
  for (const m of raw.matchAll(/\[((?:<[0-9a-fA-F]*>|[-\d.\s])*)\]\s*TJ/g)) {
    let s = '';
    for (const h of m[1]!.matchAll(/<([0-9a-fA-F]*)>/g)) s += decode(Buffer.from(h[1]!, 'hex'));
    out.push(s);
  }
  return out.join(' ').replace(/\s+/g, ' ');
}
