import { describe, expect, it } from 'vitest';

/** Sockets, pipes and timers alive in this process, by kind. */
function openResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (/TCP|Pipe|Timeout|Immediate/.test(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

describe('the built package', () => {
  it('is importable by its name through the exports map, and opens nothing on import', async () => {
    const before = openResources();
    const dbswitch = await import('dbswitch');
    expect(typeof dbswitch.createDb).toBe('function');
    expect(typeof dbswitch.loadConfig).toBe('function');
    expect(new dbswitch.DbSwitchError('ECONFIG', 'x').code).toBe('ECONFIG');
    expect(dbswitch.DB_TYPES).toEqual(['basic', 'aws', 'ssh']);
    const after = openResources();
    for (const [kind, count] of Object.entries(after)) expect(count, kind).toBeLessThanOrEqual(before[kind] ?? 0);
  });
});
