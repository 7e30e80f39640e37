/**
 * A small, strict XML reader for bank statements (no dependency): elements, attributes,
 * text, CDATA, comments, processing instructions and the five predefined entities plus
 * character references. No DTD (refused: no entity expansion), namespaces kept as
 * prefixes and dropped from the local name. Anything not well-formed is an `XmlError`
 * with the line and column of the fault.
 */

export interface XmlElement {
  /** Local name (prefix removed). */
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside the element. */
  text: string;
  line: number;
  column: number;
}

export class XmlError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'XmlError';
  }
}

const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function parseXml(input: string): XmlElement {
  let pos = 0;
  const src = input.startsWith('\uFEFF') ? input.slice(1) : input;

  // Offsets where each line starts: positions in O(log n), so large statements stay linear.
  const lineStarts = [0];
  for (let i = src.indexOf('\n'); i >= 0; i = src.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const where = (at: number): { line: number; column: number } => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: at - lineStarts[lo]! + 1 };
  };
  const fail = (message: string, at = pos): never => {
    const w = where(at);
    throw new XmlError(message, w.line, w.column);
  };

  const decode = (raw: string, start: number): string =>
    raw.replace(/&([^;\s&<]*);?/g, (m, ref: string, offset: number) => {
      if (!m.endsWith(';')) fail('an "&" that does not start an entity reference', start + offset);
      if (ref.startsWith('#x')) {
        const cp = /^#x[0-9A-Fa-f]+$/.test(ref) ? parseInt(ref.slice(2), 16) : NaN;
        if (Number.isNaN(cp) || cp > 0x10ffff) fail(`invalid character reference &${ref};`, start + offset);
        return String.fromCodePoint(cp);
      }
      if (ref.startsWith('#')) {
        const cp = /^#\d+$/.test(ref) ? parseInt(ref.slice(1), 10) : NaN;
        if (Number.isNaN(cp) || cp > 0x10ffff) fail(`invalid character reference &${ref};`, start + offset);
        return String.fromCodePoint(cp);
      }
      const v = ENTITIES[ref];
      if (v === undefined) fail(`unknown entity &${ref};`, start + offset);
      return v!;
    });

  const skipSpace = (): void => {
    while (pos < src.length && /\s/.test(src[pos]!)) pos++;
  };

  /** Comments, processing instructions and white space between markup (prolog / epilogue). */
  const skipMisc = (allowDecl: boolean): void => {
    for (;;) {
      skipSpace();
      if (src.startsWith('<?', pos)) {
        const end = src.indexOf('?>', pos + 2);
        if (end < 0) fail('unterminated processing instruction');
        const isDecl = /^<\?xml[\s?]/.test(src.slice(pos, pos + 6));
        if (isDecl && (!allowDecl || pos !== 0)) fail('the XML declaration must come first');
        pos = end + 2;
        allowDecl = false;
      } else if (src.startsWith('<!--', pos)) {
        const end = src.indexOf('-->', pos + 4);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (src.startsWith('<!DOCTYPE', pos)) {
        fail('a DOCTYPE is not accepted in a bank statement');
      } else return;
      allowDecl = false;
    }
  };

  const parseElement = (): XmlElement => {
    const start = pos;
    if (src[pos] !== '<') fail('expected an element');
    pos++;
    const m = NAME.exec(src.slice(pos, pos + 200));
    if (!m) fail('expected an element name');
    const qname = m![0];
    pos += qname.length;
    const { line, column } = where(start);
    const el: XmlElement = { name: qname.includes(':') ? qname.split(':')[1]! : qname, attributes: {}, children: [], text: '', line, column };
    for (;;) {
      const before = pos;
      skipSpace();
      if (src.startsWith('/>', pos)) {
        pos += 2;
        return el;
      }
      if (src[pos] === '>') {
        pos++;
        break;
      }
      if (pos === before) fail(`expected white space, ">" or "/>" in <${qname}>`);
      const an = NAME.exec(src.slice(pos, pos + 200));
      if (!an) fail(`expected an attribute name in <${qname}>`);
      pos += an![0].length;
      skipSpace();
      if (src[pos] !== '=') fail(`expected "=" after attribute ${an![0]}`);
      pos++;
      skipSpace();
      const q = src[pos];
      if (q !== '"' && q !== "'") fail(`attribute ${an![0]} must be quoted`);
      const end = src.indexOf(q!, pos + 1);
      if (end < 0) fail(`unterminated attribute ${an![0]}`);
      const raw = src.slice(pos + 1, end);
      if (raw.includes('<')) fail(`"<" in attribute ${an![0]}`, pos + 1 + raw.indexOf('<'));
      const local = an![0].includes(':') ? an![0].split(':')[1]! : an![0];
      if (Object.hasOwn(el.attributes, an![0])) fail(`attribute ${an![0]} given twice`);
      el.attributes[an![0].startsWith('xmlns') ? an![0] : local] = decode(raw, pos + 1);
      pos = end + 1;
    }
    // Content.
    for (;;) {
      if (pos >= src.length) fail(`element <${qname}> is not closed`, start);
      if (src.startsWith('</', pos)) {
        const close = pos;
        pos += 2;
        const cm = NAME.exec(src.slice(pos, pos + 200));
        if (!cm || cm[0] !== qname) fail(`</${cm?.[0] ?? ''}> does not close <${qname}> (line ${line})`, close);
        pos += cm![0].length;
        skipSpace();
        if (src[pos] !== '>') fail(`expected ">" to close </${qname}>`);
        pos++;
        return el;
      }
      if (src.startsWith('<!--', pos)) {
        const end = src.indexOf('-->', pos + 4);
        if (end < 0) fail('unterminated comment');
        pos = end + 3;
      } else if (src.startsWith('<![CDATA[', pos)) {
        const end = src.indexOf(']]>', pos + 9);
        if (end < 0) fail('unterminated CDATA section');
        el.text += src.slice(pos + 9, end);
        pos = end + 3;
      } else if (src.startsWith('<?', pos)) {
        const end = src.indexOf('?>', pos + 2);
        if (end < 0) fail('unterminated processing instruction');
        pos = end + 2;
      } else if (src[pos] === '<') {
        el.children.push(parseElement());
      } else {
        const next = src.indexOf('<', pos);
        const end = next < 0 ? src.length : next;
        const raw = src.slice(pos, end);
        if (raw.includes(']]>')) fail('"]]>" in character data', pos + raw.indexOf(']]>'));
        el.text += decode(raw, pos);
        pos = end;
      }
    }
  };

  skipMisc(true);
  if (pos >= src.length) fail('no root element');
  const root = parseElement();
  skipMisc(false);
  if (pos < src.length) fail('content after the root element');
  return root;
}

/** Children named `name`. */
export const childrenNamed = (el: XmlElement, name: string): XmlElement[] => el.children.filter((c) => c.name === name);

/** The first descendant along `path` (`Refs/EndToEndId`), or null. */
export function find(el: XmlElement, path: string): XmlElement | null {
  let cur: XmlElement = el;
  for (const part of path.split('/')) {
    const next = cur.children.find((c) => c.name === part);
    if (next === undefined) return null;
    cur = next;
  }
  return cur;
}

/** Trimmed text at `path`, or null when absent or empty. */
export function textAt(el: XmlElement, path: string): string | null {
  const f = find(el, path);
  const t = f?.text.trim();
  return t ? t : null;
}
