// A small hand-made SVG line chart (no libraries): latency percentiles against concurrency.

export interface LatencyPoint {
  readonly concurrency: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const WIDTH = 640;
const HEIGHT = 360;
const MARGIN = { top: 40, right: 110, bottom: 50, left: 70 };
const COLORS = { p50: '#1f77b4', p99: '#d62728', criticalPath: '#7f7f7f' } as const;

/** The chart: concurrency on a categorical x axis (evenly spaced), latency in ms on y from 0. */
export function latencyChartSvg(points: readonly LatencyPoint[], criticalPathMs: number, title: string): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const highest = Math.max(criticalPathMs, ...points.map((point) => point.p99Ms));
  const step = niceStep(highest / 5);
  const yMax = Math.ceil((highest * 1.05) / step) * step;
  const x = (index: number): number => MARGIN.left + (points.length <= 1 ? plotWidth / 2 : (index * plotWidth) / (points.length - 1));
  const y = (ms: number): number => MARGIN.top + plotHeight - (ms / yMax) * plotHeight;
  const format = (value: number): string => value.toFixed(1);

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  parts.push(`<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);
  for (let value = 0; value <= yMax; value += step) {
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${format(y(value))}" y2="${format(y(value))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${format(y(value) + 4)}" text-anchor="end">${value}</text>`);
  }
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#000000"/>`);
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${MARGIN.top + plotHeight}" y2="${MARGIN.top + plotHeight}" stroke="#000000"/>`);
  points.forEach((point, index) => {
    parts.push(`<line x1="${format(x(index))}" x2="${format(x(index))}" y1="${MARGIN.top + plotHeight}" y2="${MARGIN.top + plotHeight + 5}" stroke="#000000"/>`);
    parts.push(`<text x="${format(x(index))}" y="${MARGIN.top + plotHeight + 20}" text-anchor="middle">${point.concurrency}</text>`);
  });
  parts.push(`<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 10}" text-anchor="middle">concurrent connections</text>`);
  parts.push(`<text transform="translate(18 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">latency (ms)</text>`);

  const criticalY = format(y(criticalPathMs));
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${criticalY}" y2="${criticalY}" stroke="${COLORS.criticalPath}" stroke-dasharray="6 4"/>`);
  const series = [
    { label: 'p50', color: COLORS.p50, value: (point: LatencyPoint) => point.p50Ms },
    { label: 'p99', color: COLORS.p99, value: (point: LatencyPoint) => point.p99Ms },
  ];
  for (const { color, value } of series) {
    const path = points.map((point, index) => `${format(x(index))},${format(y(value(point)))}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    points.forEach((point, index) => parts.push(`<circle cx="${format(x(index))}" cy="${format(y(value(point)))}" r="3" fill="${color}"/>`));
  }
  const legendX = MARGIN.left + plotWidth + 12;
  const legend = [...series.map(({ label, color }) => ({ label, color, dashed: false })), { label: 'critical path', color: COLORS.criticalPath, dashed: true }];
  legend.forEach(({ label, color, dashed }, index) => {
    const legendY = MARGIN.top + 10 + index * 20;
    parts.push(`<line x1="${legendX}" x2="${legendX + 20}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${legendX + 26}" y="${legendY + 4}">${label}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** 1, 2 or 5 times a power of ten, at least `rough`. */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 1)));
  return [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough) ?? 10 * power;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
