/** The ground floor for values: JSON Schema fragments with strict patterns, and the validator with keel's own messages. */
export * from './validate.js';
export * from './values.js';
