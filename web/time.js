// Dates and times as people in the clinic read them: in the clinic's time
// zone, Australian English ("3:41 pm", "Wednesday", "12 Nov").

const DAY_MS = 86400000;

function formatter(timeZone, options) {
  try {
    return new Intl.DateTimeFormat('en-AU', { ...options, timeZone });
  } catch {
    // An unknown zone name: fall back to the browser's own zone.
    return new Intl.DateTimeFormat('en-AU', options);
  }
}

export function makeClock(timeZone) {
  const ymd = formatter(timeZone, { year: 'numeric', month: 'numeric', day: 'numeric' });
  const hm = formatter(timeZone, { hour: 'numeric', minute: '2-digit', hour12: true });
  const weekday = formatter(timeZone, { weekday: 'long' });
  const dayMonth = formatter(timeZone, { day: 'numeric', month: 'short' });
  const dayMonthYear = formatter(timeZone, { day: 'numeric', month: 'short', year: 'numeric' });
  const longDay = formatter(timeZone, { weekday: 'short', day: 'numeric', month: 'short' });
  const longDayYear = formatter(timeZone, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
  const full = formatter(timeZone, {
    weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: 'numeric', minute: '2-digit', hour12: true,
  });

  const toDate = (v) => (v instanceof Date ? v : new Date(v));

  // The calendar day in the clinic's zone, as a day count (for differences)
  // and the year (to know when to show it).
  function day(v) {
    const parts = {};
    for (const p of ymd.formatToParts(toDate(v))) parts[p.type] = Number(p.value);
    return { n: Math.round(Date.UTC(parts.year, parts.month - 1, parts.day) / DAY_MS), year: parts.year };
  }

  // "3:41 pm", built from parts so the spacing and case never vary.
  function time(v) {
    const parts = {};
    for (const p of hm.formatToParts(toDate(v))) parts[p.type] = p.value;
    const period = (parts.dayPeriod || '').toLowerCase().replace(/\./g, '');
    return `${parts.hour}:${parts.minute}${period ? ' ' + period : ''}`;
  }

  return {
    time,
    dayKey: (v) => String(day(v).n),
    full: (v) => full.format(toDate(v)),

    // For the conversation list: today → time, this week → weekday, else date.
    listStamp(v, now = new Date()) {
      const d = day(v);
      const today = day(now);
      const diff = today.n - d.n;
      if (diff <= 0) return time(v);
      if (diff < 7) return weekday.format(toDate(v));
      return d.year === today.year ? dayMonth.format(toDate(v)) : dayMonthYear.format(toDate(v));
    },

    // A moment anywhere in time, in words: "Today, 3:41 pm",
    // "Tomorrow, 9:00 am", "Tue 1 Dec, 1:28 am" (with the year when not this one).
    stamp(v, now = new Date()) {
      const d = day(v);
      const today = day(now);
      const diff = today.n - d.n;
      let date;
      if (diff === 0) date = 'Today';
      else if (diff === 1) date = 'Yesterday';
      else if (diff === -1) date = 'Tomorrow';
      else {
        const parts = {};
        for (const p of longDayYear.formatToParts(toDate(v))) parts[p.type] = p.value;
        date = `${parts.weekday} ${parts.day} ${parts.month}${d.year === today.year ? '' : ` ${parts.year}`}`;
      }
      return `${date}, ${time(v)}`;
    },

    // For the day separators in a thread.
    dayLabel(v, now = new Date()) {
      const d = day(v);
      const today = day(now);
      const diff = today.n - d.n;
      if (diff <= 0) return 'Today';
      if (diff === 1) return 'Yesterday';
      if (diff < 7) return weekday.format(toDate(v));
      return d.year === today.year ? longDay.format(toDate(v)) : longDayYear.format(toDate(v));
    },
  };
}
