// Keyboard shortcuts for a page. A single letter pressed while the user is not typing in a
// field calls onKey with it and moves the focus to `focusId`; Ctrl+Enter (Cmd+Enter) inside
// the form `submitFormId` submits that form.
import { useEffect, useRef } from "react";

function typing(target) {
  if (!target || !target.tagName) return false;
  return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)
    || Boolean(target.closest('[role="dialog"], [role="listbox"], [role="menu"]'));
}

export function Hotkeys({ keys, focusId, submitFormId, onKey }) {
  const handler = useRef(onKey);
  handler.current = onKey;
  useEffect(() => {
    const listener = (event) => {
      if (event.defaultPrevented || event.isComposing) return;
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && submitFormId) {
        const form = event.target && event.target.closest && event.target.closest("form");
        if (form && form.id === submitFormId) {
          event.preventDefault();
          form.requestSubmit();
        }
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      const key = (event.key || "").toLowerCase();
      if (key.length !== 1 || !(keys || "").includes(key)) return;
      event.preventDefault();
      if (handler.current) handler.current(key);
      const field = focusId ? document.getElementById(focusId) : null;
      if (field) {
        field.scrollIntoView({ block: "nearest" });
        setTimeout(() => field.focus(), 0);
      }
    };
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, [keys, focusId, submitFormId]);
  return null;
}
