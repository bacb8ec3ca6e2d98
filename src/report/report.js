(function () {
  var box = document.querySelector('.search');
  var input = document.getElementById('member-search');
  var status = document.getElementById('member-status');
  if (box && input && status) {
    box.hidden = false;
    input.addEventListener('input', function () {
      var q = input.value.trim().toLowerCase();
      var found = 0;
      document.querySelectorAll('details.members').forEach(function (d) {
        var shown = 0;
        d.querySelectorAll('tbody tr').forEach(function (row) {
          var hit = !q || row.textContent.toLowerCase().indexOf(q) >= 0;
          row.hidden = !hit;
          if (hit) shown++;
        });
        if (q) { d.open = shown > 0; found += shown; }
      });
      status.textContent = q ? found + ' matching rows' : '';
    });
  }
  window.addEventListener('beforeprint', function () {
    document.querySelectorAll('details').forEach(function (d) { d.open = true; });
  });
})();
