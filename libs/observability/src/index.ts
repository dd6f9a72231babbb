export * from './observability.module';
export * from './metrics.module';
export * from './metrics.service';
export * from './metric-names';
export { OTHER as OTHER_LABEL_VALUE } from './bounded-label';
