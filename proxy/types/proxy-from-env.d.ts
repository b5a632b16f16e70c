declare module 'proxy-from-env' {
  /** The proxy URL the standard environment variables choose for `url`, or '' for none. */
  export function getProxyForUrl(url: string | URL): string;
}
