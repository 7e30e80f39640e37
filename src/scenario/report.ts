/** The scenario report of SCENARIOS.md; money in integer cents. */
export interface StepReport {
  index: number;
  do: string;
  at: string;
  ok: boolean;
  error?: { code: string; clause: string | null; message: string };
}

export interface EventReport {
  at: string;
  client: string | null;
  type: string;
  clause: string | null;
  details: Record<string, unknown>;
}

export interface Report {
  scenario: string;
  steps: StepReport[];
  invoices: Record<string, unknown>[];
  calls: Record<string, unknown>[];
  events: EventReport[];
  clients: Record<string, unknown>[];
}

export function formatReportText(report: Report): string {
  const out: string[] = [`scenario ${report.scenario}`];
  for (const s of report.steps) {
    const status = s.ok ? 'ok' : `refused ${s.error?.code ?? ''}${s.error?.clause ? ` (clause ${s.error.clause})` : ''}: ${s.error?.message ?? ''}`;
    out.push(`  [${s.index}] ${s.at} ${s.do} — ${status}`);
  }
  out.push(`invoices: ${report.invoices.length}, calls: ${report.calls.length}, events: ${report.events.length}`);
  for (const e of report.events) out.push(`  ${e.at} ${e.client ?? '-'} ${e.type}${e.clause ? ` (clause ${e.clause})` : ''}`);
  return `${out.join('\n')}\n`;
}
