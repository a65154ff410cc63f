/**
 * The live throughput chart: completed and failed tasks per second, drawn
 * with uPlot (small, fast, canvas-based) and redrawn as each second passes.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { Throughput } from "../live.js";

export function ThroughputChart({ throughput }: { throughput: Throughput }) {
  const holder = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = holder.current;
    if (!element) return;
    const plot = new uPlot(
      {
        width: Math.max(element.clientWidth, 300),
        height: 180,
        legend: { show: true, live: false },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(max, 5)] } },
        axes: [{}, { label: "tasks/s", size: 60 }],
        series: [
          {},
          { label: "completed/s", stroke: "#2e7d32", width: 2, fill: "rgba(46,125,50,0.08)" },
          { label: "failed/s", stroke: "#c62828", width: 2 },
        ],
      },
      [throughput.seconds, throughput.completed, throughput.failed],
      element,
    );
    chart.current = plot;
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(element.clientWidth, 300), height: 180 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
      chart.current = null;
    };
    // The chart is built once; later data goes through setData below.
  }, []);

  useEffect(() => {
    chart.current?.setData([throughput.seconds, throughput.completed, throughput.failed]);
  }, [throughput]);

  return <div class="chart" ref={holder} data-testid="throughput-chart" />;
}
