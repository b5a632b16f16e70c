/** A frame did not match the grammar we expected. Callers pass such frames through. */
export class KafkaDecodeError extends Error {
  readonly code: 'KAFKA_TRUNCATED' | 'KAFKA_MALFORMED' | 'KAFKA_UNSUPPORTED_VERSION';
  constructor(code: KafkaDecodeError['code'], message: string) {
    super(message);
    this.name = 'KafkaDecodeError';
    this.code = code;
  }
}
