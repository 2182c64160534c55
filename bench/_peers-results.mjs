// @ts-check
/**
 * The peers bench's measurements: one value per participant (a registry or a floor) per round and
 * metric, ratios formed inside each round, and the table of medians, ranges and ratios.
 */
import { median, round, table } from './_util.mjs';

/**
 * @typedef {{ key: string, label: string, unit: string, better: 'higher' | 'lower', kinds?: string[] }} Metric
 */

/** Every metric, in the order of the table. */
export const METRICS = /** @type {const} */ ([
  { key: 'download', label: 'BIG download, blob cache on', unit: 'MB/s', better: 'higher' },
  { key: 'downloadNoCache', label: 'BIG download, blob cache off', unit: 'MB/s', better: 'higher', kinds: ['s3'] },
  { key: 'publish', label: 'BIG publish', unit: 's', better: 'lower' },
  { key: 'smallSeq', label: 'small publishes, sequential', unit: '/s', better: 'higher' },
  { key: 'smallConc', label: 'small publishes, N clients', unit: '/s', better: 'higher' },
  { key: 'cpu', label: 'server CPU per small publish', unit: 'ms', better: 'lower' },
  { key: 'rss', label: 'peak RSS, N concurrent small publishes', unit: 'MB', better: 'lower' },
  { key: 'start', label: 'start to ready, populated', unit: 's', better: 'lower' },
  { key: 'versionRead', label: 'version record reads', unit: 'req/s', better: 'higher' },
  { key: 'detailRead', label: 'pack detail / npm metadata reads', unit: 'req/s', better: 'higher' },
  { key: 'search', label: 'search / _catalog', unit: 'req/s', better: 'higher' },
  { key: 'hugePublish', label: 'HUGE publish', unit: 's', better: 'lower' },
  { key: 'hugeRss', label: 'peak RSS during the HUGE publish', unit: 'MB', better: 'lower' },
]);

export const PEERS = ['packyard', 'verdaccio', 'distribution'];

export class Results {
  constructor() {
    /** @type {Map<string, Map<string, Array<number | undefined>>>} `${kind} ${metric}` -> participant -> per round */
    this.values = new Map();
    /** @type {Map<string, string>} `${kind} ${metric}` -> the floor's name */
    this.floors = new Map();
  }

  /**
   * @param {string} kind
   * @param {string} metric
   * @param {string} participant a peer's name, or `floor`
   * @param {number} index the round
   * @param {number} value
   */
  record(kind, metric, participant, index, value) {
    const key = `${kind} ${metric}`;
    let byParticipant = this.values.get(key);
    if (!byParticipant) this.values.set(key, (byParticipant = new Map()));
    let series = byParticipant.get(participant);
    if (!series) byParticipant.set(participant, (series = []));
    series[index] = value;
  }

  /** @param {string} kind @param {string} metric @param {string} name */
  nameFloor(kind, metric, name) {
    this.floors.set(`${kind} ${metric}`, name);
  }

  /** @param {string} kind @param {string} metric @param {string} participant @returns {number[]} */
  series(kind, metric, participant) {
    return (this.values.get(`${kind} ${metric}`)?.get(participant) ?? []).filter(
      (value) => typeof value === 'number' && Number.isFinite(value),
    );
  }

  /** @param {string} kind @param {string} metric @param {string} participant */
  median(kind, metric, participant) {
    const values = this.series(kind, metric, participant);
    return values.length ? median(values) : undefined;
  }

  /**
   * Median over rounds of `a`/`b` (both measured in that round); for a time or a size this is how
   * many times `a` takes, for a rate how many times `a` does.
   * @param {string} kind @param {string} metric @param {string} a @param {string | 'best-peer'} b
   */
  ratio(kind, metric, a, b) {
    const byParticipant = this.values.get(`${kind} ${metric}`);
    const spec = METRICS.find((m) => m.key === metric);
    if (!byParticipant || !spec) return undefined;
    const as = byParticipant.get(a) ?? [];
    const ratios = [];
    for (let index = 0; index < as.length; index++) {
      const value = as[index];
      if (value === undefined) continue;
      let other;
      if (b === 'best-peer') {
        const peers = PEERS.filter((p) => p !== a)
          .map((p) => byParticipant.get(p)?.[index])
          .filter((v) => typeof v === 'number' && Number.isFinite(v) && v > 0);
        other = peers.length === 0 ? undefined : spec.better === 'higher' ? Math.max(...peers) : Math.min(...peers);
      } else other = byParticipant.get(b)?.[index];
      if (other !== undefined && other > 0) ratios.push(value / other);
    }
    return ratios.length ? median(ratios) : undefined;
  }

  /** The table: medians [min-max] per participant, and Packyard's ratios to the best peer and the floor. */
  table(/** @type {string[]} */ kinds, /** @type {{ concurrency: number, big: string, huge: string }} */ names) {
    const rows = [
      ['measure', 'store', 'unit', 'packyard', 'verdaccio', 'distribution', 'floor', 'py/best peer', 'py/floor'],
    ];
    for (const metric of METRICS) {
      for (const kind of kinds) {
        if (!this.values.has(`${kind} ${metric.key}`)) continue;
        const cell = (/** @type {string} */ participant) => {
          const values = this.series(kind, metric.key, participant);
          if (!values.length) return '-';
          const digits = Math.abs(median(values)) >= 100 ? 0 : Math.abs(median(values)) >= 10 ? 1 : 2;
          const f = (/** @type {number} */ n) => n.toFixed(digits);
          return values.length === 1
            ? f(values[0])
            : `${f(median(values))} [${f(Math.min(...values))}-${f(Math.max(...values))}]`;
        };
        const ratio = (/** @type {string} */ b) => {
          const value = this.ratio(kind, metric.key, 'packyard', b);
          return value === undefined ? '-' : `${value.toFixed(2)}x`;
        };
        const floor = this.floors.get(`${kind} ${metric.key}`);
        rows.push([
          metric.label
            .replace('N clients', `${names.concurrency} clients`)
            .replace('N concurrent', `${names.concurrency} concurrent`)
            .replace('BIG', names.big)
            .replace('HUGE', names.huge),
          kind,
          metric.unit,
          cell('packyard'),
          cell('verdaccio'),
          cell('distribution'),
          floor ? `${cell('floor')} (${floor})` : '-',
          ratio('best-peer'),
          floor ? ratio('floor') : '-',
        ]);
      }
    }
    return table(rows);
  }

  /** Everything recorded, for the BENCH_RESULT line. */
  toJSON() {
    /** @type {Record<string, any>} */
    const out = {};
    for (const [key, byParticipant] of this.values) {
      const [kind, metric] = key.split(' ');
      /** @type {Record<string, any>} */
      const entry = {};
      for (const [participant] of byParticipant) {
        const values = this.series(kind, metric, participant);
        if (values.length) entry[participant] = { median: round(median(values)), values: values.map((v) => round(v)) };
      }
      const toPeer = this.ratio(kind, metric, 'packyard', 'best-peer');
      const toFloor = this.ratio(kind, metric, 'packyard', 'floor');
      if (toPeer !== undefined) entry['ratioToBestPeer'] = round(toPeer);
      if (toFloor !== undefined) entry['ratioToFloor'] = round(toFloor);
      if (this.floors.has(key)) entry['floorName'] = this.floors.get(key);
      out[`${kind}.${metric}`] = entry;
    }
    return out;
  }
}
