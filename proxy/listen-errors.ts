import { ShimError } from '../shared/errors.ts';

/** A failed listen() as a sentence a person understands, with a stable code. */
export function listenError(err: NodeJS.ErrnoException, host: string, port: number): ShimError {
  switch (err.code) {
    case 'EADDRINUSE':
      return new ShimError('PORT_IN_USE', `Port ${port} on ${host} is already in use by another program; choose another port or stop that program`, { cause: err });
    case 'EACCES':
      return new ShimError(
        'PORT_ACCESS_DENIED',
        port < 1024
          ? `Port ${port} needs administrator rights (ports below 1024 are privileged); choose a port above 1024`
          : `This system does not allow listening on port ${port} of ${host}`,
        { cause: err },
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ShimError('ADDRESS_NOT_AVAILABLE', `Cannot listen on ${host}: that address does not belong to this computer`, { cause: err });
    default:
      return new ShimError('INTERNAL', `Cannot listen on ${host}:${port}: ${err.message}`, { cause: err });
  }
}
