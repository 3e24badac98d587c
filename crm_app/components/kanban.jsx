// The deals board: a column per open stage, cards dragged with the mouse or the keyboard
// (focus a card, Space to lift, arrow keys to move, Space to drop, Escape to cancel).
//
// A move shows at once: the board keeps its own copy of the columns, moves the card in it,
// then tells the server (onMove). The server answers with new columns, or, when it refuses
// the move, with a new `version` and the old columns: either way the copy is replaced.
// While mounted, the board calls onTick every tickMs so the server can send other people's
// changes.
import React, { useCallback, useEffect, useRef, useState } from "react";
import { flushSync } from "react-dom";

// Send the save after the browser has painted the moved card: dispatching it re-renders
// the app, which would otherwise hold back that paint.
function afterPaint(send) {
  requestAnimationFrame(() => setTimeout(send, 0));
}
import { DragDropContext, Draggable, Droppable } from "@hello-pangea/dnd";
import { Link } from "react-router";

const ZONE = "zone-";

function withoutCard(columns, cardId) {
  let found = null;
  const rest = columns.map((column) => {
    const index = column.cards.findIndex((card) => card.id === cardId);
    if (index < 0) return column;
    found = column.cards[index];
    const cards = column.cards.filter((card) => card.id !== cardId);
    return { ...column, cards, count: column.count - 1 };
  });
  return [rest, found];
}

function withCard(columns, stageId, index, card) {
  return columns.map((column) => {
    if (column.id !== stageId) return column;
    const cards = [...column.cards];
    cards.splice(index, 0, card);
    return { ...column, cards, count: column.count + 1 };
  });
}

const styles = {
  board: { display: "flex", gap: "12px", overflowX: "auto", paddingBottom: "8px",
           alignItems: "flex-start" },
  column: { flex: "0 0 272px", background: "var(--gray-a2)", borderRadius: "var(--radius-4)",
            border: "1px solid var(--gray-a4)", display: "flex", flexDirection: "column" },
  header: { padding: "10px 12px 6px" },
  title: { display: "flex", justifyContent: "space-between", fontWeight: 600,
           fontSize: "var(--font-size-2)" },
  sums: { color: "var(--gray-11)", fontSize: "var(--font-size-1)", marginTop: "2px" },
  // not a scroll container: the library supports one (the board's horizontal scroll)
  cards: { padding: "4px 8px 8px", minHeight: "64px", flex: 1 },
  // content-visibility: the browser lays out and paints only the cards near the screen, so
  // a drop does not re-layout the hundreds below it.
  card: { background: "var(--color-panel-solid)", border: "1px solid var(--gray-a5)",
          borderRadius: "var(--radius-3)", padding: "8px 10px", marginBottom: "8px",
          boxShadow: "var(--shadow-1)", fontSize: "var(--font-size-2)",
          contentVisibility: "auto", containIntrinsicSize: "auto 92px" },
  rotting: { borderLeft: "3px solid var(--red-9)" },
  name: { fontWeight: 500, color: "var(--accent-11)", textDecoration: "none" },
  line: { color: "var(--gray-11)", fontSize: "var(--font-size-1)", marginTop: "2px",
          display: "flex", justifyContent: "space-between", gap: "8px" },
  late: { color: "var(--red-11)", fontWeight: 500 },
  more: { margin: "0 8px 8px", padding: "6px", border: "1px dashed var(--gray-a6)",
          borderRadius: "var(--radius-3)", background: "transparent", cursor: "pointer",
          color: "var(--gray-11)", fontSize: "var(--font-size-1)" },
  zones: { display: "flex", gap: "12px", marginTop: "12px" },
  zone: { flex: 1, padding: "14px", borderRadius: "var(--radius-4)", textAlign: "center",
          fontWeight: 600, fontSize: "var(--font-size-2)" },
};

function zoneStyle(kind, over) {
  const color = kind === "won" ? "green" : "red";
  return { ...styles.zone, border: `2px dashed var(--${color}-8)`, color: `var(--${color}-11)`,
           background: over ? `var(--${color}-a4)` : `var(--${color}-a2)` };
}

// Memoised: a drop re-renders only the cards whose place changed, not the whole board.
const Card = React.memo(function Card({ card, index, readOnly }) {
  return (
    <Draggable draggableId={card.id} index={index} isDragDisabled={readOnly}>
      {(provided, snapshot) => (
        <div
          ref={provided.innerRef}
          {...provided.draggableProps}
          {...provided.dragHandleProps}
          aria-label={`${card.name}, ${card.amount || "no amount"}`}
          data-deal-id={card.id}
          style={{
            ...styles.card,
            ...(card.rotting ? styles.rotting : {}),
            ...(snapshot.isDragging ? { boxShadow: "var(--shadow-4)" } : {}),
            ...provided.draggableProps.style,
          }}
        >
          <Link to={card.href} style={styles.name}>{card.name}</Link>
          {card.company ? <div style={styles.line}>{card.company}</div> : null}
          <div style={styles.line}>
            <span>{card.amount}</span>
            <span>{card.owner}</span>
          </div>
          <div style={styles.line}>
            <span>{card.close ? `Closes ${card.close}` : "No close date"}</span>
            <span style={card.rotting ? styles.late : undefined}
                  title={card.rotting ? "Longer in this stage than its limit" : undefined}>
              {card.days}
            </span>
          </div>
        </div>
      )}
    </Draggable>
  );
});

const Column = React.memo(function Column({ column, onMore, readOnly }) {
  return (
    <section style={styles.column} aria-label={`${column.name}: ${column.count} deals`}>
      <header style={styles.header}>
        <div style={styles.title}>
          <span>{column.name}</span>
          <span>{column.count}</span>
        </div>
        <div style={styles.sums}>{column.total} · weighted {column.weighted}</div>
      </header>
      <Droppable droppableId={column.id}>
        {(provided, snapshot) => (
          <div
            ref={provided.innerRef}
            {...provided.droppableProps}
            style={{ ...styles.cards,
                     background: snapshot.isDraggingOver ? "var(--accent-a2)" : undefined }}
          >
            {column.cards.map((card, index) => (
              <Card key={card.id} card={card} index={index} readOnly={readOnly} />
            ))}
            {provided.placeholder}
          </div>
        )}
      </Droppable>
      {column.cards.length < column.count ? (
        <button type="button" style={styles.more} onClick={() => onMore(column.id)}>
          Load more ({column.count - column.cards.length} not shown)
        </button>
      ) : null}
    </section>
  );
});

export function DealBoard({
  columns, dropZones, version, readOnly, tickMs, onMove, onMore, onTick,
}) {
  const [shown, setShown] = useState(columns);
  useEffect(() => setShown(columns), [columns, version]);
  // The app hands new handler functions on every render; columns get one that never changes,
  // so a memoised column is not re-rendered for it.
  const moreRef = useRef(onMore);
  moreRef.current = onMore;
  const more = useCallback((stageId) => moreRef.current(stageId), []);
  useEffect(() => {
    if (!tickMs || !onTick) return undefined;
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") onTick();
    }, tickMs);
    return () => clearInterval(timer);
  }, [tickMs, onTick]);

  const onDragEnd = useCallback(
    ({ draggableId, source, destination }) => {
      if (!destination) return;
      const target = destination.droppableId;
      if (target === source.droppableId && destination.index === source.index) return;
      const [rest, card] = withoutCard(shown, draggableId);
      if (card === null) return;
      if (target.startsWith(ZONE)) {
        flushSync(() => setShown(rest)); // won and lost deals leave the open columns
        afterPaint(() => onMove(draggableId, target.slice(ZONE.length), "", ""));
        return;
      }
      const next = withCard(rest, target, destination.index, card);
      flushSync(() => setShown(next));
      const cards = next.find((column) => column.id === target).cards;
      const above = cards[destination.index - 1];
      const below = cards[destination.index + 1];
      afterPaint(() => onMove(draggableId, target, above ? above.id : "", below ? below.id : ""));
    },
    [shown, onMove],
  );

  return (
    <DragDropContext onDragEnd={onDragEnd}>
      <div style={styles.board}>
        {shown.map((column) => (
          <Column key={column.id} column={column} onMore={more} readOnly={readOnly} />
        ))}
      </div>
      {dropZones && dropZones.length ? (
        <div style={styles.zones}>
          {dropZones.map((zone) => (
            <Droppable key={zone.id} droppableId={ZONE + zone.id}>
              {(provided, snapshot) => (
                <div
                  ref={provided.innerRef}
                  {...provided.droppableProps}
                  aria-label={`Drop here: ${zone.name}`}
                  style={zoneStyle(zone.kind, snapshot.isDraggingOver)}
                >
                  {zone.name}
                  <div style={{ display: "none" }}>{provided.placeholder}</div>
                </div>
              )}
            </Droppable>
          ))}
        </div>
      ) : null}
    </DragDropContext>
  );
}
