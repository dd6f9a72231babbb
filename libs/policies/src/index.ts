export * from './evaluation/policy.types';
export * from './evaluation/glob-matcher';
export * from './evaluation/cidr-matcher';
export * from './evaluation/policy-subject';
export * from './evaluation/time-window';
export * from './evaluation/policy-validation';
export * from './evaluation/policy-evaluator';
