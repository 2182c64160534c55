// @ts-check
/**
 * What /proc tells about another process (Linux; undefined elsewhere): its CPU time so far, its
 * peak resident set size (VmHWM), which can be reset to the present RSS to measure one phase's
 * peak, and its present RSS; and how busy the whole machine was.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers/promises';

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

/**
 * The machine's CPU time so far, from /proc/stat's first line, in clock ticks summed over its
 * cores: `busy` (user, nice, system, irq, softirq: the kernel's own threads, such as ext4's journal,
 * count here and in no process), `iowait`, `idle` and `steal` (taken by the hypervisor for other
 * guests). Two readings around a phase tell how busy the machine was; undefined off Linux.
 */
export function machineTicks() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
    return {
      busy: (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0),
      iowait: iowait ?? 0,
      idle: idle ?? 0,
      steal: steal ?? 0,
    };
  } catch {
    return undefined;
  }
}

/**
 * How a phase between two {@link machineTicks} readings used the machine, as shares of all its
 * cores' time ("busy 93%, iowait 2%, steal 1%"); '' when either reading is missing.
 */
export function machineShares(
  /** @type {ReturnType<typeof machineTicks>} */ before,
  /** @type {ReturnType<typeof machineTicks>} */ after,
) {
  if (!before || !after) return '';
  const delta = {
    busy: after.busy - before.busy,
    iowait: after.iowait - before.iowait,
    idle: after.idle - before.idle,
    steal: after.steal - before.steal,
  };
  const total = delta.busy + delta.iowait + delta.idle + delta.steal;
  if (total <= 0) return '';
  const share = (/** @type {number} */ ticks) => `${Math.round((100 * ticks) / total)}%`;
  return `busy ${share(delta.busy)}, iowait ${share(delta.iowait)}, steal ${share(delta.steal)}`;
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

/** The pids of the processes whose command line contains one of `names` (pgrep -f). */
function pidsOf(/** @type {string[]} */ names) {
  try {
    return execFileSync('pgrep', ['-f', names.join('|')], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Ceph's daemons, the S3 server of the benches' Ceph RGW. */
const STORAGE_DAEMONS = ['radosgw', 'ceph-osd', 'ceph-mon', 'ceph-mgr'];

/**
 * CPU seconds used so far by the storage daemons running now (Ceph's), summed; 0 when none runs.
 * Two readings around a phase tell what the S3 server spent on it.
 */
export function storageDaemonCpuSeconds() {
  return pidsOf(STORAGE_DAEMONS).reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
}

/**
 * Requests the bench's Ceph RGW has served so far (its `rgw.req` counter, read through the admin
 * socket scripts/ceph-rgw.sh sets up under $CEPH_DIR, /tmp/ceph by default); undefined when there is
 * no such RGW. Two readings around a phase tell how many S3 requests it took.
 */
export function rgwRequests() {
  const socket = path.join(process.env['CEPH_DIR'] ?? '/tmp/ceph', 'run', 'client.rgw.a.asok');
  if (!existsSync(socket)) return undefined;
  try {
    const dump = execFileSync('ceph', ['--admin-daemon', socket, 'perf', 'dump'], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    const requests = JSON.parse(dump)?.rgw?.req;
    return typeof requests === 'number' ? requests : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the storage daemons named (Ceph's radosgw, ceph-osd, ceph-mon by default) use less
 * than `share` of a core over a `windowMs` window, or `maxMs` passed: after a populate, Ceph
 * compacts and trims for a while, and a start timed then measures Ceph's load, not the registry.
 * Resolves with the milliseconds waited and the last window's share (undefined: none running).
 */
export async function waitForQuietStorage({
  names = ['radosgw', 'ceph-osd', 'ceph-mon'],
  share = 0.05,
  windowMs = 2000,
  maxMs = 60_000,
} = {}) {
  const pids = pidsOf(names);
  if (pids.length === 0) return { waitedMs: 0, share: undefined };
  const total = () => pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
  const began = performance.now();
  let last = 0;
  for (;;) {
    const before = total();
    await setTimeout(windowMs);
    last = (total() - before) / (windowMs / 1000);
    if (last < share || performance.now() - began >= maxMs) return { waitedMs: performance.now() - began, share: last };
  }
}
