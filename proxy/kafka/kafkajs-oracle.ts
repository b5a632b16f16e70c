import { createRequire } from 'node:module';

/*
 * Test support: KafkaJS as a second, independent implementation of the wire
 * format. Its protocol modules are CommonJS and untyped, so they are loaded
 * with createRequire and used only from tests.
 */

const require = createRequire(import.meta.url);

const REQUESTS = 'kafkajs/src/protocol/requests';

interface KafkaJsResponse {
  decode(body: Buffer): Promise<unknown>;
  parse(data: unknown): Promise<unknown>;
}

/** KafkaJS's response decoder for `api` (its folder name, e.g. "metadata") at `version`. */
export function kafkaJsResponse(api: string, version: number): KafkaJsResponse {
  return require(`${REQUESTS}/${api}/v${version}/response.js`) as KafkaJsResponse;
}

/** Decodes a response body with KafkaJS; `parse` throws for error codes, as KafkaJS does. */
export async function kafkaJsDecode(api: string, version: number, body: Buffer): Promise<Record<string, unknown>> {
  const response = kafkaJsResponse(api, version);
  return (await response.decode(body)) as Record<string, unknown>;
}

export async function kafkaJsParse(api: string, version: number, body: Buffer): Promise<Record<string, unknown>> {
  const response = kafkaJsResponse(api, version);
  return (await response.parse(await response.decode(body))) as Record<string, unknown>;
}

/**
 * A whole request frame (size prefix, header v1, body) as KafkaJS writes it.
 * `args` are the arguments of KafkaJS's request builder for that version.
 */
export async function kafkaJsRequestFrame(
  api: string,
  version: number,
  args: Record<string, unknown>,
  header: { correlationId: number; clientId: string },
): Promise<Buffer> {
  const build = require(`${REQUESTS}/${api}/v${version}/request.js`) as (a: Record<string, unknown>) => unknown;
  const createRequest = require('kafkajs/src/protocol/request.js') as (o: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
  const encoder = await createRequest({ ...header, request: build(args) });
  return Buffer.from(encoder.buffer);
}
