// @ts-check
/**
 * What /proc tells about another process (Linux; undefined elsewhere): its CPU time so far, its
 * peak resident set size (VmHWM), which can be reset to the present RSS to measure one phase's
 * peak, and its present RSS.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

let ticksPerSecond = 0;

/** CPU seconds (user + system, all threads) a live process has used so far. */
export function cpuSeconds(/** @type {number} */ pid) {
  try {
    // Fields after the command name, which is in parentheses and may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticksPerSecond ||= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined;
  }
}

/** @param {number} pid @param {'VmHWM' | 'VmRSS'} field @returns {number | undefined} kB */
function statusKB(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Peak RSS so far of a live process, in kB. */
export const vmHwmKB = (/** @type {number} */ pid) => statusKB(pid, 'VmHWM');

/** Present RSS of a live process, in kB. */
export const vmRssKB = (/** @type {number} */ pid) => statusKB(pid, 'VmRSS');

/**
 * Resets a process's peak RSS to its present RSS (`5` to clear_refs, Linux 4.0 and later, own
 * processes); false when that is not possible.
 */
export function resetPeakRss(/** @type {number} */ pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** The machine's load averages (1, 5, 15 minutes), as /proc/loadavg has them. */
export function loadAverage() {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}
