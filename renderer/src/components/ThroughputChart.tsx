import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatRate } from '../../../shared/format.ts';
import { formatClock } from '../format.ts';
import { HISTORY_SECONDS, chartData, type ThroughputSeries } from '../state/throughput-history.ts';
import { cssColor, useColorScheme } from '../theme.ts';

/** Bytes per second each way over the last five minutes, drawn by uPlot. */

const HEIGHT = 200;

function shortRate(v: number): string {
  return formatRate(v).replace('/s', '');
}

export function ThroughputChart({ series }: { series: ThroughputSeries }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(series);
  latest.current = series;
  const scheme = useColorScheme();

  // The chart is rebuilt when the colour scheme flips: uPlot bakes colours in.
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const toBroker = cssColor('--series-up', '#2f6fde');
    const toClient = cssColor('--series-down', '#1e9e6a');
    const axis = { stroke: cssColor('--text-muted', '#666'), grid: { stroke: cssColor('--grid', '#eee'), width: 1 }, ticks: { show: false } };
    const options: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: {
        // A sliding five-minute window ending at the last sample (or now, before any).
        x: {
          time: true,
          range: (_u, _min, max) => {
            const end = latest.current.time.length > 0 ? max : Date.now() / 1000;
            return [end - HISTORY_SECONDS, end];
          },
        },
        y: { range: (_u, _min, max) => [0, Math.max(max * 1.15, 1024)] },
      },
      axes: [
        // Wall-clock times only: the window is five minutes, a date adds nothing.
        { ...axis, space: 70, size: 30, values: (_u, splits) => splits.map((t) => formatClock(t * 1000)) },
        { ...axis, size: 72, values: (_u, splits) => splits.map(shortRate) },
      ],
      series: [
        {},
        { label: 'Client → broker', stroke: toBroker, width: 1.5, fill: `${toBroker}22`, points: { show: false } },
        { label: 'Broker → client', stroke: toClient, width: 1.5, fill: `${toClient}22`, points: { show: false } },
      ],
    };
    const chart = new uPlot(options, chartData(latest.current), el);
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(el.clientWidth, 200), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [scheme]);

  useEffect(() => {
    plot.current?.setData(chartData(series));
  }, [series]);

  const last = series.time.length - 1;
  return (
    <figure className="chart" aria-label="Throughput over the last five minutes">
      <div className="chart-legend">
        <span className="legend-item">
          <span className="swatch swatch-up" aria-hidden="true" />
          Client → broker <span className="num legend-value">{last >= 0 ? formatRate(series.toBroker[last]) : '—'}</span>
        </span>
        <span className="legend-item">
          <span className="swatch swatch-down" aria-hidden="true" />
          Broker → client <span className="num legend-value">{last >= 0 ? formatRate(series.toClient[last]) : '—'}</span>
        </span>
        <span className="legend-window">last 5 minutes</span>
      </div>
      <div className="chart-area">
        {/* uPlot owns this element's children; React must not render into it. */}
        <div className="chart-canvas" ref={host} data-testid="throughput-chart" />
        {series.time.length === 0 && <div className="chart-empty">No samples yet: the chart fills while the tunnel runs.</div>}
      </div>
    </figure>
  );
}
