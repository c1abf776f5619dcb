// The console's only script: moves the dashboard's progress bars while cycles run, and draws
// month-end charts from data the server put in the page (no inline script: CSP forbids it).
(function () {
  'use strict';

  function pollProgress() {
    var running = document.querySelectorAll('[data-cycle]');
    if (running.length === 0) return;
    var timer = setInterval(function () {
      fetch('/api/progress', { headers: { accept: 'application/json' }, credentials: 'same-origin' })
        .then(function (r) {
          return r.ok ? r.json() : null;
        })
        .then(function (data) {
          if (!data) return;
          var live = {};
          data.cycles.forEach(function (c) {
            live[c.id] = c;
          });
          var finished = false;
          running.forEach(function (el) {
            var c = live[el.getAttribute('data-cycle')];
            if (!c) {
              finished = true;
              return;
            }
            var bar = el.querySelector('progress');
            if (c.percent === null) bar.removeAttribute('value');
            else bar.value = c.percent;
            el.querySelector('.progress-text').textContent =
              c.phase +
              ': ' +
              c.fetched +
              ' fetched, ' +
              c.mediated +
              ' mediated' +
              (c.percent === null ? '' : ' (' + c.percent + '%)');
          });
          if (finished) {
            clearInterval(timer);
            window.location.reload();
          }
        })
        .catch(function () {
          /* the next poll tries again */
        });
    }, 2000);
  }

  function drawCharts() {
    if (typeof window.Chart === 'undefined') return;
    document.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
      var spec = JSON.parse(canvas.getAttribute('data-chart'));
      new window.Chart(canvas, {
        type: 'bar',
        data: {
          labels: spec.labels,
          datasets: [
            { label: 'Charge', data: spec.charge, backgroundColor: '#1f5fbf' },
            { label: 'Cost', data: spec.cost, backgroundColor: '#9aa7bb' },
            { label: 'Margin', data: spec.margin, backgroundColor: '#1d7a46' },
          ],
        },
        options: {
          animation: false,
          responsive: true,
          plugins: { title: { display: true, text: spec.title } },
          scales: { y: { title: { display: true, text: spec.currency } } },
        },
      });
    });
  }

  // The rate card's product picker (a datalist of names): the chosen product's GUID, cost and RRP beside it.
  function describePickedProduct() {
    var input = document.getElementById('product-picker');
    var out = document.getElementById('product-picked');
    if (!input || !out || !input.list) return;
    var show = function () {
      var text = '';
      Array.prototype.forEach.call(input.list.options, function (option) {
        if (option.value === input.value) text = option.textContent;
      });
      out.textContent = text;
    };
    input.addEventListener('input', show);
    input.addEventListener('change', show);
  }

  // Buttons marked data-confirm ask before a form is sent.
  document.addEventListener('submit', function (e) {
    var button = e.submitter;
    var message = button && button.getAttribute('data-confirm');
    if (message && !window.confirm(message)) e.preventDefault();
  });

  document.addEventListener('DOMContentLoaded', function () {
    pollProgress();
    drawCharts();
    describePickedProduct();
  });
})();
