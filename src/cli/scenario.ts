import { ScenarioFileError } from '../scenario/file.ts';
import { formatReportText } from '../scenario/report.ts';
import { runScenarioFile } from '../scenario/runner.ts';
import { CliExit } from './exit.ts';

export async function runScenarioCommand(file: string, json: boolean): Promise<void> {
  try {
    const report = await runScenarioFile(file);
    process.stdout.write(json ? `${JSON.stringify(report, null, 1)}\n` : formatReportText(report));
  } catch (e) {
    if (e instanceof ScenarioFileError) throw new CliExit(2, `invalid scenario: ${e.message}`);
    throw e;
  }
}
