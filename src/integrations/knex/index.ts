// dbswitch/knex: knex on dbswitch's pool. `knex(knexConfig(db))` gives a knex instance whose
// connections are lent by db.pool(): knex's own tarn pool and raw connections are never used.
export { knexConfig, type KnexExtraConfig } from './knex-config.js';
export { dbswitchKnexClient, type KnexAfterCreate, type KnexDbSource } from './dbswitch-knex-client.js';
