/**
 * The chart of `npm run bench:scale`: hand-written SVG (no dependency), one panel per measure, each with its own
 * axis from zero, its groups of two bars (Parley, relay) labelled with their values.
 */

export interface ChartGroup { label: string, parley: number, relay: number }
export interface ChartPanel {
  title: string
  /** "higher is better" or "lower is better", under the title. */
  note: string
  groups: ChartGroup[]
}

const COLORS = { parley: '#2f6db5', relay: '#9aa5b1' }
const PANEL_WIDTH = 230
const PLOT_HEIGHT = 250
const TOP = 110
const LEFT = 20

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export function formatValue (value: number): string {
  if (!Number.isFinite(value)) return 'n/a'
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above `value`. */
function niceCeiling (value: number): number {
  if (!(value > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  const step = [1, 2, 2.5, 5, 10].find(m => m * power >= value) ?? 10
  return step * power
}

/** An axis over 0..`max` with some headroom: a round tick step and at most 5 steps. */
function axis (max: number): { step: number, ticks: number } {
  const top = Math.max(max, 0) * 1.1
  const step = niceCeiling(top / 5)
  return { step, ticks: Math.max(1, Math.ceil(top / step)) }
}

function text (x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escape(content)}</text>`
}

function panel (spec: ChartPanel, x0: number): string {
  const out: string[] = []
  const plotLeft = x0 + 44
  const plotWidth = PANEL_WIDTH - 56
  const bottom = TOP + PLOT_HEIGHT
  const values = spec.groups.flatMap(g => [g.parley, g.relay]).filter(Number.isFinite)
  const { step, ticks } = axis(Math.max(0, ...values))
  const top = step * ticks
  out.push(text(x0 + PANEL_WIDTH / 2, TOP - 42, spec.title, 'text-anchor="middle" font-size="14" font-weight="bold"'))
  out.push(text(x0 + PANEL_WIDTH / 2, TOP - 24, spec.note, 'text-anchor="middle" font-size="11" fill="#555"'))
  for (let i = 0; i <= ticks; i++) {
    const value = step * i
    const y = bottom - PLOT_HEIGHT * i / ticks
    out.push(`<line x1="${plotLeft}" y1="${y.toFixed(1)}" x2="${plotLeft + plotWidth}" y2="${y.toFixed(1)}" stroke="${i === 0 ? '#333' : '#e2e2e2'}"/>`)
    out.push(text(plotLeft - 5, y + 4, Number.isInteger(value) ? value.toLocaleString('en-US') : formatValue(value), 'text-anchor="end" font-size="10" fill="#555"'))
  }
  const groupWidth = plotWidth / spec.groups.length
  const barWidth = Math.min(34, groupWidth * 0.36)
  spec.groups.forEach((group, g) => {
    const center = plotLeft + groupWidth * (g + 0.5)
    for (const [k, side] of (['parley', 'relay'] as const).entries()) {
      const value = group[side]
      const height = Number.isFinite(value) ? PLOT_HEIGHT * Math.max(0, value) / top : 0
      const x = center + (k === 0 ? -barWidth - 2 : 2)
      out.push(`<rect x="${x.toFixed(1)}" y="${(bottom - height).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${height.toFixed(1)}" fill="${COLORS[side]}"><title>${escape(`${side} ${group.label}: ${formatValue(value)}`)}</title></rect>`)
      out.push(text(x + barWidth / 2, bottom - height - 4, formatValue(value), 'text-anchor="middle" font-size="10"'))
    }
    out.push(text(center, bottom + 16, group.label, 'text-anchor="middle" font-size="12"'))
    const ratio = group.parley / group.relay
    out.push(text(center, bottom + 31, Number.isFinite(ratio) ? `${formatValue(ratio)}x` : '', 'text-anchor="middle" font-size="11" fill="#2f6db5"'))
  })
  return out.join('\n')
}

/** The whole chart: a title, a subtitle (what ran, where, when), a legend and the panels side by side. */
export function renderChart (title: string, subtitle: string, panels: ChartPanel[]): string {
  const width = LEFT * 2 + PANEL_WIDTH * panels.length
  const height = TOP + PLOT_HEIGHT + 70
  const legend = (['parley', 'relay'] as const).map((side, i) => {
    const x = width - LEFT - 250 + i * 120
    return `<rect x="${x}" y="14" width="14" height="14" fill="${COLORS[side]}"/>` +
      text(x + 20, 26, side === 'parley' ? 'Parley' : 'bare relay', 'font-size="13"')
  }).join('\n')
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    text(LEFT, 26, title, 'font-size="17" font-weight="bold"'),
    text(LEFT, 46, subtitle, 'font-size="12" fill="#444"'),
    legend,
    ...panels.map((spec, i) => panel(spec, LEFT + i * PANEL_WIDTH)),
    text(LEFT, height - 10, 'Under each group: Parley / relay.', 'font-size="11" fill="#2f6db5"'),
    '</svg>',
    ''
  ].join('\n')
}
