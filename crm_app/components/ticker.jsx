// Calls onTick every `ms` milliseconds while the page is visible, and at once when the page
// becomes visible again; renders nothing. The notification bell re-counts with it.
import { useEffect, useRef } from "react";

export function Ticker({ ms, onTick }) {
  // The app hands a new onTick on every render: keep the latest without restarting the timer.
  const tick = useRef(onTick);
  tick.current = onTick;
  useEffect(() => {
    const fire = () => {
      if (document.visibilityState === "visible") tick.current();
    };
    const timer = setInterval(fire, ms);
    document.addEventListener("visibilitychange", fire);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", fire);
    };
  }, [ms]);
  return null;
}
