import { useEffect, useState } from 'react';

/**
 * The OS colour scheme. CSS follows it by itself (prefers-color-scheme); only the
 * chart, which paints on a canvas, needs to know in script.
 */
export function useColorScheme(): 'light' | 'dark' {
  const query = typeof window.matchMedia === 'function' ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  const [dark, setDark] = useState(query?.matches ?? false);
  useEffect(() => {
    if (!query) return;
    const onChange = (e: MediaQueryListEvent) => setDark(e.matches);
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, [query?.media]);
  return dark ? 'dark' : 'light';
}

/** A colour from the stylesheet's custom properties, so the chart matches the theme. */
export function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}
