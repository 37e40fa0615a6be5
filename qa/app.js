// GIST Answers: the page's own behaviour, run once when the page loads (qa/ui.py passes it to
// Gradio as the load event's js). It fetches nothing and stores nothing.
() => {
  if (window.gistAnswers) return;
  const T = __GIST_TEXTS__;
  window.gistAnswers = T;
  const fmt = (n) => n.toLocaleString("en-US");
  const box = () => document.querySelector("#gist-question textarea");
  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (_, key) => (key in values ? fmt(values[key]) : ""));

  // A visible limit and counter, read with the box (aria-describedby), never cutting the text.
  function count() {
    const el = box();
    const out = document.getElementById("gist-count-text");
    if (!el || !out) return;
    const n = el.value.length;
    const over = n - T.max_chars;
    out.textContent =
      n === 0
        ? fill(T.limit, { max_chars: T.max_chars })
        : fill(over > 0 ? T.counter_over : T.counter, { count: n, max_chars: T.max_chars, over });
    out.classList.toggle("gist-over", over > 0);
    if (el.getAttribute("aria-describedby") !== "gist-count-text") {
      el.setAttribute("aria-describedby", "gist-count-text");
    }
  }

  // Speakers named in words: Gradio labels each message with its raw text.
  function label() {
    for (const el of document.querySelectorAll(
      '#gist-chat [data-testid="user"], #gist-chat [data-testid="bot"]',
    )) {
      const name = el.dataset.testid === "user" ? T.question_speaker : T.answer_speaker;
      if (el.getAttribute("aria-label") !== name) el.setAttribute("aria-label", name);
      if (el.getAttribute("role") !== "article") el.setAttribute("role", "article");
    }
  }

  // A new answer: bring its start (with the question just above it, when that fits) into view.
  let answers = 0;
  function show(bot) {
    const row = bot.closest(".message-row") || bot;
    const asked = document.querySelectorAll('#gist-chat [data-testid="user"]');
    const question = asked.length ? asked[asked.length - 1] : null;
    const questionRow = question ? question.closest(".message-row") || question : null;
    let target = row;
    if (questionRow) {
      const gap = row.getBoundingClientRect().top - questionRow.getBoundingClientRect().top;
      if (gap >= 0 && gap < window.innerHeight * 0.3) target = questionRow;
    }
    target.scrollIntoView({ block: "start" });
  }
  function changed() {
    label();
    const bots = document.querySelectorAll('#gist-chat [data-testid="bot"]');
    if (bots.length > answers) show(bots[bots.length - 1]);
    answers = bots.length;
    count();
  }

  let pending = false;
  const observer = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      changed();
    });
  });
  function watch() {
    const chat = document.getElementById("gist-chat");
    if (!chat) return setTimeout(watch, 100);
    observer.observe(chat, { childList: true, subtree: true });
    answers = chat.querySelectorAll('[data-testid="bot"]').length;
    label();
    count();
  }
  watch();
  document.addEventListener("input", (event) => {
    if (event.target === box()) count();
  });
  // Examples, Ask and New conversation set the box without an input event.
  document.addEventListener("click", () => setTimeout(count, 50));

  // Printing prints the whole conversation, sources unfolded, in light colours.
  let folded = [];
  let dark = false;
  window.addEventListener("beforeprint", () => {
    folded = [...document.querySelectorAll("#gist-chat details:not([open])")];
    folded.forEach((d) => (d.open = true));
    dark = document.body.classList.contains("dark");
    document.body.classList.remove("dark");
  });
  window.addEventListener("afterprint", () => {
    folded.forEach((d) => (d.open = false));
    if (dark) document.body.classList.add("dark");
  });
}
