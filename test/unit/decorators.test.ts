import { describe, expect, it } from 'vitest';
import { createContainer } from '../../src/container/create-container.js';
import { loadConfig } from '../../src/config/load-config.js';
import { Db } from '../../src/db.js';

describe('container', () => {
  it('builds a Db', () => {
    const container = createContainer(loadConfig({ env: { DB_USER: 'x' }, cwd: '/nonexistent' }));
    expect(container.get(Db)).toBeInstanceOf(Db);
  });
});
