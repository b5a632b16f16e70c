import { z } from 'zod';
import { ShimError } from '../../shared/errors.ts';
import type { InvokeChannel } from '../../shared/api.ts';
import { describeIssues, profileSchema } from '../../shared/profile.ts';

/**
 * What each channel accepts, checked before anything reaches the repository or the
 * engine: the caller is a renderer or a browser tab and is never trusted. Profiles
 * are checked separately with profileSchema so their errors read INVALID_PROFILE.
 */

const id = profileSchema.shape.id;

export const argumentSchemas = {
  'app:info': z.tuple([]),
  'profiles:list': z.tuple([]),
  'profiles:save': z.tuple([z.unknown()]),
  'profiles:delete': z.tuple([id]),
  'profiles:export': z.tuple([z.object({ includeSecrets: z.boolean() }).strict()]),
  // Size is checked by the importer, which says so in a sentence.
  'profiles:import': z.tuple([z.string()]),
  'tunnels:start': z.tuple([id]),
  'tunnels:stop': z.tuple([id]),
  'tunnels:snapshots': z.tuple([]),
  'tunnels:events': z.tuple([
    z.object({ tunnelId: id.optional(), limit: z.number().int().min(0).max(10_000).optional() }).strict(),
  ]),
  'tunnels:history': z.tuple([id]),
  'tunnels:test': z.tuple([z.unknown()]),
  'clipboard:write': z.tuple([z.string().max(64 * 1024)]),
} satisfies Record<InvokeChannel, z.ZodType>;

export type ParsedArgs<C extends InvokeChannel> = z.output<(typeof argumentSchemas)[C]>;

export function isInvokeChannel(channel: unknown): channel is InvokeChannel {
  return typeof channel === 'string' && Object.hasOwn(argumentSchemas, channel);
}

export function parseArgs<C extends InvokeChannel>(channel: C, args: unknown): ParsedArgs<C> {
  const parsed = argumentSchemas[channel].safeParse(args);
  if (!parsed.success) {
    throw new ShimError('INVALID_ARGUMENT', `Invalid arguments for ${channel}: ${describeIssues(parsed.error)}`);
  }
  return parsed.data as ParsedArgs<C>;
}

/** Parses a profile from the caller; defaults are filled in, errors name the field. */
export function parseProfile(input: unknown) {
  const parsed = profileSchema.safeParse(input);
  if (!parsed.success) {
    throw new ShimError('INVALID_PROFILE', `The profile is not valid: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}
