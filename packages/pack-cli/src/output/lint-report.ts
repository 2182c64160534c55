import type { Finding, LintResult } from '@packyard/pack-core';
import { safe, terminalSafe } from './sanitise.js';
import type { Colors } from './terminal.js';

function location(finding: Finding): string {
  if (finding.line !== undefined) return `${finding.line}:${finding.column ?? 1}`;
  return finding.pointer !== undefined && finding.pointer !== '' ? terminalSafe(finding.pointer) : '';
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * The human lint report: findings grouped by file, each with its location, message, rule id and
 * hint, then a one-line summary. `label` names the pack directory. File names, messages and hints
 * quote the pack (which may be a hostile download): each is made terminal-safe.
 */
export function formatLintReport(result: LintResult, label: string, c: Colors): string {
  const lines: string[] = [];
  const { name, version } = result.pack;
  const identity = name && version ? ` ${c.dim(safe`(${name}@${version})`)}` : '';
  lines.push(`${c.bold(terminalSafe(label))}${identity}`);
  for (const chart of result.charts) {
    lines.push(`  ${c.dim('chart')} ${safe`${chart.file}: ${chart.name} ${chart.version}`}`);
  }
  let currentFile: string | null = null;
  for (const finding of result.findings) {
    if (finding.file !== currentFile) {
      currentFile = finding.file;
      lines.push('', c.underline(terminalSafe(finding.file)));
    }
    const severity = finding.severity === 'error' ? c.red('error  ') : c.yellow('warning');
    const where = location(finding);
    lines.push(
      `  ${severity} ${where ? `${c.dim(where)}  ` : ''}${terminalSafe(finding.message)}  ${c.dim(finding.rule)}`,
    );
    lines.push(`          ${c.dim(safe`hint: ${finding.hint}`)}`);
  }
  lines.push('');
  if (result.errors === 0 && result.warnings === 0) {
    lines.push(c.green('✔ no problems'));
  } else {
    const summary = `${plural(result.errors, 'error')}, ${plural(result.warnings, 'warning')}`;
    lines.push(result.errors > 0 ? c.red(`✖ ${summary}`) : c.yellow(`⚠ ${summary}`));
  }
  return `${lines.join('\n')}\n`;
}

/** The `--format json` shape of a lint run. */
export function lintJson(result: LintResult): object {
  return {
    pack: { name: result.pack.name, version: result.pack.version },
    errors: result.errors,
    warnings: result.warnings,
    findings: result.findings,
    charts: result.charts,
  };
}
