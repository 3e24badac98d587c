// The activities calendar: a grid of days (a month, or one week) holding tasks and meetings.
//
// An item moves to another day by dragging it onto that day (the browser's own drag and
// drop), or from the keyboard: focus it, then Alt+Left/Right moves it a day and Alt+Up/Down a
// week. The move shows at once; the server answers with the new days (or the old ones, with
// a message, when it refuses), which replace the board's copy.
import React, { useCallback, useEffect, useState } from "react";
import { Link } from "react-router";

const DAY_MS = 24 * 60 * 60 * 1000;

function shiftDay(iso, days) {
  const [y, m, d] = iso.split("-").map(Number);
  const moved = new Date(Date.UTC(y, m - 1, d) + days * DAY_MS);
  return moved.toISOString().slice(0, 10);
}

function moveItem(days, itemId, target) {
  let found = null;
  const rest = days.map((day) => {
    const item = day.items.find((i) => i.id === itemId);
    if (!item) return day;
    found = item;
    return { ...day, items: day.items.filter((i) => i.id !== itemId) };
  });
  if (!found) return days;
  return rest.map((day) => (day.date === target
    ? { ...day, items: [...day.items, found].sort((a, b) => a.time.localeCompare(b.time)) }
    : day));
}

const styles = {
  head: { display: "grid", gridTemplateColumns: "repeat(7, minmax(0, 1fr))", gap: "4px",
          marginBottom: "4px", color: "var(--gray-11)", fontSize: "var(--font-size-1)",
          fontWeight: 600, textAlign: "center" },
  grid: { display: "grid", gridTemplateColumns: "repeat(7, minmax(0, 1fr))", gap: "4px" },
  day: { border: "1px solid var(--gray-a5)", borderRadius: "var(--radius-3)", padding: "4px",
         background: "var(--color-panel-solid)", display: "flex", flexDirection: "column",
         gap: "3px", minWidth: 0 },
  outside: { background: "var(--gray-a2)", color: "var(--gray-10)" },
  today: { borderColor: "var(--accent-8)", boxShadow: "inset 0 0 0 1px var(--accent-8)" },
  over: { background: "var(--accent-a3)" },
  number: { fontSize: "var(--font-size-1)", fontWeight: 600, color: "inherit" },
  item: { display: "block", padding: "2px 4px", borderRadius: "var(--radius-2)",
          fontSize: "var(--font-size-1)", lineHeight: 1.35, cursor: "grab", overflow: "hidden",
          textOverflow: "ellipsis", whiteSpace: "nowrap", textDecoration: "none",
          color: "var(--gray-12)", outlineOffset: "1px" },
  task: { background: "var(--amber-a3)", borderLeft: "3px solid var(--amber-9)" },
  meeting: { background: "var(--blue-a3)", borderLeft: "3px solid var(--blue-9)" },
  done: { textDecoration: "line-through", color: "var(--gray-10)" },
};

export function ActivityCalendar({ days, version, weekdays, minHeight, onMove }) {
  const [shown, setShown] = useState(days);
  const [over, setOver] = useState(null);
  useEffect(() => setShown(days), [days, version]);

  const move = useCallback((itemId, target) => {
    const from = shown.find((day) => day.items.some((i) => i.id === itemId));
    if (!from || from.date === target || !shown.some((day) => day.date === target)) return;
    setShown(moveItem(shown, itemId, target));
    onMove(itemId, target);
  }, [shown, onMove]);

  const onKeyDown = (event, item, date) => {
    if (!event.altKey || !item.movable) return;
    const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[event.key];
    if (!steps) return;
    event.preventDefault();
    const target = shiftDay(date, steps);
    move(item.id, target);
    setTimeout(() => {
      const moved = document.querySelector(`[data-item-id="${item.id}"]`);
      if (moved) moved.focus();
    }, 0);
  };

  return (
    <div>
      <div style={styles.head} aria-hidden="true">
        {(weekdays || []).map((name) => <div key={name}>{name}</div>)}
      </div>
      <ol style={{ ...styles.grid, listStyle: "none", margin: 0, padding: 0 }}>
        {shown.map((day) => (
          <li
            key={day.date}
            aria-label={`${day.label}: ${day.items.length} ${day.items.length === 1 ? "item" : "items"}`}
            data-date={day.date}
            style={{ ...styles.day, minHeight: minHeight || "96px",
                     ...(day.inMonth ? {} : styles.outside),
                     ...(day.today ? styles.today : {}),
                     ...(over === day.date ? styles.over : {}) }}
            onDragOver={(event) => { event.preventDefault(); setOver(day.date); }}
            onDragLeave={() => setOver((current) => (current === day.date ? null : current))}
            onDrop={(event) => {
              event.preventDefault();
              setOver(null);
              const itemId = event.dataTransfer.getData("text/x-activity");
              if (itemId) move(itemId, day.date);
            }}
          >
            <span style={styles.number}>{day.number}</span>
            {day.items.map((item) => (
              <Link
                key={item.id}
                to={item.href}
                data-item-id={item.id}
                draggable={item.movable}
                aria-label={`${item.title}, ${item.when}${item.movable ? ". Alt and arrow keys move it" : ""}`}
                title={`${item.when} · ${item.title}`}
                onDragStart={(event) => {
                  event.dataTransfer.setData("text/x-activity", item.id);
                  event.dataTransfer.effectAllowed = "move";
                }}
                onKeyDown={(event) => onKeyDown(event, item, day.date)}
                style={{ ...styles.item, ...(styles[item.kind] || {}),
                         ...(item.done ? styles.done : {}) }}
              >
                {item.time ? `${item.time} ` : ""}{item.title}
              </Link>
            ))}
          </li>
        ))}
      </ol>
    </div>
  );
}
