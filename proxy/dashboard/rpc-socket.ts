import type { WebSocket } from 'ws';
import type { PushChannel } from '../../shared/api.ts';
import { parseRpcRequest, type RpcPush, type RpcReply } from '../../shared/dashboard-rpc.ts';
import { ShimError, serializeError } from '../../shared/errors.ts';
import type { ControlService } from '../control/service.ts';

/**
 * One dashboard tab's WebSocket, served by the ControlService: requests in,
 * replies and pushes out (wire format in shared/dashboard-rpc.ts).
 */

export type DashboardService = Pick<ControlService, 'invoke' | 'onPush'>;

/** A tab that stops reading gets no more stats; the next snapshot supersedes them anyway. */
const STATS_SKIP_BUFFERED = 1024 * 1024;
/** Beyond this a tab is not reading at all: drop it rather than buffer without bound. */
const MAX_BUFFERED = 16 * 1024 * 1024;
/** Requests one tab may have outstanding; the page never needs more than a handful. */
const MAX_IN_FLIGHT = 64;
const HEARTBEAT_MS = 30_000;

export function serveRpcSocket(ws: WebSocket, service: DashboardService): void {
  let inFlight = 0;
  let alive = true;

  const send = (message: RpcReply | RpcPush): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.terminate();
      return;
    }
    let text: string;
    try {
      text = JSON.stringify(message);
    } catch (err) {
      if ('id' in message) text = JSON.stringify({ id: message.id, ok: false, error: serializeError(err) });
      else return;
    }
    ws.send(text);
  };

  const stopPushes = service.onPush((channel: PushChannel, payload: unknown) => {
    if (channel === 'push:stats' && ws.bufferedAmount > STATS_SKIP_BUFFERED) return;
    send({ push: channel, payload });
  });

  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      ws.close(1003, 'The dashboard speaks JSON text messages');
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString());
    } catch {
      ws.close(1007, 'Not JSON');
      return;
    }
    const request = parseRpcRequest(parsed);
    if ('problem' in request) {
      if (request.id === null) ws.close(1008, request.problem.slice(0, 120));
      else send({ id: request.id, ok: false, error: serializeError(new ShimError('INVALID_ARGUMENT', request.problem)) });
      return;
    }
    if (inFlight >= MAX_IN_FLIGHT) {
      send({ id: request.id, ok: false, error: serializeError(new ShimError('BUSY', 'Too many requests at once; wait for the earlier ones to finish.')) });
      return;
    }
    inFlight += 1;
    service.invoke(request.channel, request.args).then(
      (value) => send({ id: request.id, ok: true, value }),
      (err: unknown) => send({ id: request.id, ok: false, error: serializeError(err) }),
    ).finally(() => {
      inFlight -= 1;
    });
  });

  // Loopback connections rarely die silently, but a laptop lid closing on a LAN tab does.
  const heartbeat = setInterval(() => {
    if (!alive) {
      ws.terminate();
      return;
    }
    alive = false;
    ws.ping();
  }, HEARTBEAT_MS);
  heartbeat.unref();
  ws.on('pong', () => {
    alive = true;
  });

  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    clearInterval(heartbeat);
    stopPushes();
  });
}
