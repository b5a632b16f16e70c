import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { INVOKE_CHANNELS, type InvokeChannel, type InvokeResult, type PushChannel, type PushChannels } from '../shared/api.ts';
import { ShimError, serializeError } from '../shared/errors.ts';
import type { ControlService } from '../proxy/control/service.ts';
import type { IpcEnvelope } from './ipc-envelope.ts';

/**
 * The main-process half of the IPC contract (shared/api.ts), and the only code that
 * touches ipcMain or sends to a window. Handlers forward to ControlService, which
 * validates every payload; this layer checks who is asking and wraps the answer.
 */

/** Registers a typed handler; returns the function that removes it. */
export function handle<C extends InvokeChannel>(
  channel: C,
  handler: (event: IpcMainInvokeEvent, args: unknown[]) => Promise<InvokeResult<C>>,
  onInternalError?: (channel: C, err: unknown) => void,
): () => void {
  ipcMain.handle(channel, async (event, ...args: unknown[]): Promise<IpcEnvelope<InvokeResult<C>>> => {
    try {
      return { ok: true, value: await handler(event, args) };
    } catch (err) {
      const error = serializeError(err);
      if (error.code === 'INTERNAL') onInternalError?.(channel, err);
      return { ok: false, error };
    }
  });
  return () => ipcMain.removeHandler(channel);
}

export interface ControlHandlersOptions {
  service: ControlService;
  /** Only the dashboard's own frames may call; see window.ts isDashboardUrl. */
  isTrustedUrl: (url: string) => boolean;
  onInternalError?: (channel: InvokeChannel, err: unknown) => void;
}

/** Every channel of the contract, forwarded to the service. Returns one disposer for all. */
export function registerControlHandlers(options: ControlHandlersOptions): () => void {
  const disposers = INVOKE_CHANNELS.map((channel) =>
    handle(
      channel,
      async (event, args) => {
        const url = event.senderFrame?.url ?? '';
        if (!options.isTrustedUrl(url)) {
          throw new ShimError('UNAUTHORIZED', 'This page is not the dashboard and may not control tunnels');
        }
        return options.service.invoke(channel, args);
      },
      options.onInternalError,
    ),
  );
  return () => {
    for (const dispose of disposers) dispose();
  };
}

/** The part of a window's WebContents that pushes need. */
export interface PushTarget {
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  once(event: 'destroyed', listener: () => void): unknown;
  removeListener(event: 'destroyed', listener: () => void): unknown;
}

export function push<C extends PushChannel>(contents: PushTarget, channel: C, payload: PushChannels[C]): void {
  if (!contents.isDestroyed()) contents.send(channel, payload);
}

/**
 * Streams pushes to one window while it exists: stats about once a second,
 * events as they happen, profile changes. The subscription ends by itself when
 * the window goes; the returned disposer ends it sooner.
 */
export function connectWindowPushes(service: ControlService, contents: PushTarget): () => void {
  const stop = service.onPush((channel, payload) => push(contents, channel, payload));
  const onDestroyed = () => stop();
  contents.once('destroyed', onDestroyed);
  return () => {
    contents.removeListener('destroyed', onDestroyed);
    stop();
  };
}

