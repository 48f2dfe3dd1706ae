// Department spend against quota, a month: a Chart.js bar chart (canvas; no
// eval and no inline style sheet, so the app's strict CSP holds). Only the
// parts used are registered, which keeps the chunk small.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { useEffect, useRef } from 'preact/hooks';
import type { DepartmentSpend } from '../../api/types';
import { useSettings } from '../../app/store';
import { useT } from '../../i18n';
import { formatMoney } from './money';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

function color(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function DepartmentChart({ departments, currency }: { departments: DepartmentSpend[]; currency: string }) {
  const t = useT();
  const { settings } = useSettings();
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    if (!canvas.current) return;
    const money = (cents: number) => formatMoney(cents, currency, settings.language);
    const text = color('--text-2', '#424b57');
    const grid = color('--border', '#dde1e6');
    const chart = new Chart(canvas.current, {
      type: 'bar',
      data: {
        labels: departments.map((d) => d.department),
        datasets: [
          { label: t('showback.chart.spend'), data: departments.map((d) => d.monthly / 100), backgroundColor: color('--accent', '#2460d6'), stack: 'use' },
          { label: t('showback.chart.pending'), data: departments.map((d) => d.pending_monthly / 100), backgroundColor: color('--warn', '#9a5b00'), stack: 'use' },
          {
            label: t('showback.chart.quota'),
            data: departments.map((d) => (d.quota_monthly ?? 0) / 100),
            backgroundColor: color('--border-strong', '#c5cbd3'),
            stack: 'quota',
          },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: {
          x: { stacked: true, ticks: { color: text }, grid: { color: grid } },
          y: { stacked: true, beginAtZero: true, ticks: { color: text, callback: (v) => money(Number(v) * 100) }, grid: { color: grid } },
        },
        plugins: {
          legend: { labels: { color: text } },
          tooltip: { callbacks: { label: (c) => `${c.dataset.label ?? ''}: ${money(Math.round(Number(c.raw) * 100))}` } },
        },
      },
    });
    return () => chart.destroy();
  }, [departments, currency, settings.language, settings.theme, t]);

  return (
    <div class="sb-chart" data-testid="showback-chart">
      <canvas ref={canvas} role="img" aria-label={t('showback.chart.label')} />
    </div>
  );
}
