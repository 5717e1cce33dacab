// stockledger back office: the variant page's balance chart, drawn with the vendored uPlot
// (static/vendor/uplot). The page says the same in words without it (#chart-summary); this draws
// the balance as steps on a real time axis (UTC) and tells the exact balance and time at the
// pointer, under a finger, or at the point chosen with the arrow keys.
(function () {
  "use strict";
  var holder = document.querySelector("[data-chart]");
  var source = document.getElementById("chart-data");
  if (!holder || !source || typeof uPlot === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var readout = document.querySelector("[data-chart-readout]");
  var help = document.querySelector("[data-chart-help]");
  var xs = data.x;
  var last = xs.length - 1;
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var MINUTE = 60;
  var DAY = 86400;
  var MIN_SPAN_S = 10 * MINUTE; // an axis over a few seconds would only repeat one time of day

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }
  function utc(seconds) {
    return new Date(seconds * 1000);
  }
  function clock(d, withSeconds) {
    var text = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
    return withSeconds ? text + ":" + pad(d.getUTCSeconds()) : text;
  }
  function dayMonth(d) {
    return d.getUTCDate() + " " + MONTHS[d.getUTCMonth()];
  }
  function exact(seconds) {
    var d = utc(seconds);
    var date = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
    return date + " " + clock(d, true) + " UTC";
  }

  // Tick labels by the distance between ticks: years, months, days, or times of day (a tick at
  // midnight names its day). The labels drawn are kept on the chart (data-ticks) for tests.
  function timeTicks(u, splits, axisIdx, space, incr) {
    var labels = splits.map(function (split) {
      var d = utc(split);
      if (incr >= 365 * DAY) {
        return String(d.getUTCFullYear());
      }
      if (incr >= 28 * DAY) {
        return MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear();
      }
      if (incr >= DAY || (d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0)) {
        return dayMonth(d);
      }
      return clock(d, incr < MINUTE);
    });
    holder.setAttribute("data-ticks", labels.join("|"));
    return labels;
  }

  function quantity(value) {
    return String(Number(value.toFixed(3)));
  }

  // The balance that holds at time x: that of the last point at or before it (a step chart).
  function indexAt(x) {
    if (x < xs[0]) {
      return 0;
    }
    var lo = 0;
    var hi = last;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (xs[mid] <= x) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  function describe(i) {
    var balance = "Balance " + data.labels[i];
    if (data.kinds[i] === "now") {
      return balance + " now (" + exact(xs[i]) + ")";
    }
    if (data.kinds[i] === "start") {
      return balance + " at " + exact(xs[i]) + ", the start of the range";
    }
    return balance + " after the movement at " + exact(xs[i]);
  }

  var pinned = null; // the point chosen with the keyboard (pointer positions are looked up)
  var shown = null;

  function show(i) {
    shown = i;
    if (i === null) {
      readout.hidden = true;
      holder.removeAttribute("aria-valuetext");
      return;
    }
    var text = describe(i);
    readout.textContent = text;
    readout.hidden = false;
    holder.setAttribute("data-index", String(i));
    holder.setAttribute("aria-valuenow", String(i));
    holder.setAttribute("aria-valuetext", text);
  }

  function halfPixel(u) {
    var width = u.over.getBoundingClientRect().width || 1;
    return (u.scales.x.max - u.scales.x.min) / width / 2;
  }

  function size() {
    var width = Math.max(200, holder.clientWidth);
    return { width: width, height: Math.round(Math.max(220, Math.min(280, width * 0.45))) };
  }

  var dims = size();
  var options = {
    width: dims.width,
    height: dims.height,
    tzDate: function (ts) {
      return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC");
    },
    legend: { show: false },
    scales: {
      x: {
        time: true,
        range: function () {
          return [Math.min(data.min, data.max - MIN_SPAN_S), data.max];
        },
      },
      y: {
        range: function (u, min, max) {
          var low = Math.min(0, min);
          var high = Math.max(0, max);
          if (high === low) {
            high = low + 1;
          }
          var room = (high - low) * 0.1;
          return [low < 0 ? low - room : 0, high + room];
        },
      },
    },
    axes: [
      {
        values: timeTicks,
        space: 64,
        font: "13px system-ui, sans-serif",
        stroke: "#3c4654",
        grid: { stroke: "#edf0f4", width: 1 },
        ticks: { stroke: "#c3cad3", width: 1, size: 5 },
      },
      {
        values: function (u, splits) {
          return splits.map(quantity);
        },
        size: 56,
        space: 36,
        font: "13px system-ui, sans-serif",
        stroke: "#3c4654",
        grid: { stroke: "#edf0f4", width: 1 },
        ticks: { stroke: "#c3cad3", width: 1, size: 5 },
      },
    ],
    series: [
      {},
      {
        label: "Balance",
        stroke: "#1f5fbf",
        fill: "rgba(31, 95, 191, 0.08)",
        width: 2.5,
        paths: uPlot.paths.stepped({ align: 1 }),
        points: { show: false },
      },
    ],
    cursor: {
      y: false,
      drag: { x: false, y: false },
      points: { size: 10, width: 2, fill: "#ffffff", stroke: "#1f5fbf" },
      dataIdx: function (u, seriesIdx, closestIdx, xValue) {
        return pinned !== null ? pinned : indexAt(xValue + halfPixel(u));
      },
    },
    hooks: {
      setCursor: [
        function (u) {
          if (pinned !== null) {
            show(pinned);
          } else if (u.cursor.left === null || u.cursor.left < 0) {
            show(null);
          } else {
            show(indexAt(u.posToVal(u.cursor.left, "x") + halfPixel(u)));
          }
        },
      ],
      draw: [
        function (u) {
          holder.setAttribute("data-x-min", String(u.scales.x.min));
          holder.setAttribute("data-x-max", String(u.scales.x.max));
        },
      ],
    },
  };

  var chart = new uPlot(options, [xs, data.y], holder);

  function point(i) {
    pinned = i;
    chart.setCursor({ left: chart.valToPos(xs[i], "x"), top: chart.valToPos(data.y[i], "y") });
  }

  // Keyboard: the chart is a slider over its points.
  holder.setAttribute("tabindex", "0");
  holder.setAttribute("role", "slider");
  holder.setAttribute("aria-valuemin", "0");
  holder.setAttribute("aria-valuemax", String(last));
  holder.setAttribute("aria-valuenow", String(last));
  holder.addEventListener("focus", function () {
    point(shown === null ? last : shown);
  });
  holder.addEventListener("keydown", function (event) {
    var steps = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: 10, PageDown: -10 };
    var current = shown === null ? last : shown;
    var next = null;
    if (event.key in steps) {
      next = Math.max(0, Math.min(last, current + steps[event.key]));
    } else if (event.key === "Home") {
      next = 0;
    } else if (event.key === "End") {
      next = last;
    }
    if (next !== null) {
      event.preventDefault();
      point(next);
    }
  });

  // Pointer and touch: the point under the finger (uPlot itself follows a mouse).
  function follow(event) {
    var box = chart.over.getBoundingClientRect();
    pinned = null;
    chart.setCursor({ left: event.clientX - box.left, top: event.clientY - box.top });
  }
  chart.over.addEventListener("pointerdown", function (event) {
    if (event.pointerType !== "mouse") {
      follow(event);
    }
  });
  chart.over.addEventListener("pointermove", function (event) {
    if (event.pointerType === "mouse") {
      pinned = null;
    } else if (event.buttons) {
      follow(event);
    }
  });

  if (help) {
    help.hidden = false;
  }
  if (typeof ResizeObserver !== "undefined") {
    new ResizeObserver(function () {
      var next = size();
      if (next.width !== chart.width || next.height !== chart.height) {
        chart.setSize(next);
      }
    }).observe(holder);
  }
})();
