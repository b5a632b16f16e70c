export { DEFAULT_DEMO_TOPICS, startDemoBroker, type DemoBroker, type DemoBrokerOptions, type DemoBrokerStats } from './broker.ts';
export { demoBrokerMain, parseDemoBrokerArgs } from './cli.ts';
export type { PartitionInfo, TopicInfo, TopicSpec } from './store.ts';
