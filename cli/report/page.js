/* global document, vegaEmbed */
/**
 * The report page's script, inlined as is into report.html: draws the sections (tables and Vega-Lite charts), the
 * per-item scatter plots and the sortable reconstruction grid from the JSON in #report-data. Plain browser
 * JavaScript, so that the page needs no build step and fetches nothing. When everything is drawn, <body> gets
 * data-ready="true" (or "error", with the error shown on the page and on the console).
 */
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const root = document.getElementById('report');
  const pending = [];
  const embedOptions = { mode: 'vega-lite', renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } };

  /** An element with attributes (`class`, `data-*`, properties such as `value`) and children (nodes or text). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') node.className = Array.isArray(value) ? value.join(' ') : value;
      else if (name.startsWith('data-') || name === 'id' || name === 'href' || name === 'for' || name === 'alt' || name === 'title') node.setAttribute(name, value);
      else node[name] = value;
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  /** The console table's number format (cli/paper-table.ts fmt). */
  function fmt(v) {
    if (v === null || v === undefined) return 'n/a';
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(4);
  }

  function embed(container, spec) {
    const done = vegaEmbed(container, spec, embedOptions);
    pending.push(done);
    return done;
  }

  function renderCell(cell) {
    if (typeof cell === 'string') return el('td', {}, cell);
    const attrs = { class: cell.classes };
    for (const [name, value] of Object.entries(cell.data || {})) attrs[`data-${name}`] = value;
    if (cell.value !== undefined) attrs['data-value'] = JSON.stringify(cell.value);
    return el('td', attrs, cell.text, cell.sub ? el('span', { class: 'sub' }, cell.sub) : null);
  }

  function renderTable(table) {
    return el(
      'div',
      { class: 'table-wrap' },
      el(
        'table',
        { id: table.id },
        table.caption ? el('caption', {}, table.caption) : null,
        el('thead', {}, el('tr', {}, table.head.map((h) => el('th', {}, h)))),
        el('tbody', {}, table.rows.map((row) => el('tr', { class: row.kind }, row.cells.map(renderCell)))),
      ),
      (table.notes || []).map((n) => el('p', { class: 'note' }, n)),
    );
  }

  function renderSection(section) {
    const node = el('section', { id: section.id }, el('h2', {}, section.title), (section.text || []).map((t) => el('p', { class: 'note' }, t)));
    for (const table of section.tables || []) node.append(renderTable(table));
    for (const chart of section.charts || []) {
      const box = el('div', { class: 'chart', id: chart.id });
      if (chart.title) node.append(el('h3', {}, chart.title));
      node.append(box);
      embed(box, chart.spec);
    }
    return node;
  }

  function image(key, label) {
    const src = key === undefined ? undefined : data.images[key];
    return src === undefined ? el('span', { class: 'note' }, '—') : el('img', { class: 'item', src, alt: label, title: label });
  }

  /** Best first for the metric's direction; undefined values last; ties keep the test order. */
  function sortedItems(group, metric, pipeline, reverse) {
    const order = group.ids.map((_, i) => i);
    if (!metric) return reverse ? order.reverse() : order;
    const values = metric.values[pipeline] || [];
    const sign = metric.direction === 'higher' ? -1 : 1;
    order.sort((a, b) => {
      const [va, vb] = [values[a], values[b]];
      const [na, nb] = [va === null || va === undefined, vb === null || vb === undefined];
      if (na || nb) return na === nb ? a - b : na ? 1 : -1;
      return sign * (va - vb) || a - b;
    });
    return reverse ? order.reverse() : order;
  }

  function detailPanel(group, panel, index, grid) {
    const id = group.ids[index];
    const figures = [el('figure', {}, image(group.truth && group.truth[index], `${id} ground truth`), el('figcaption', {}, 'ground truth'))];
    for (const c of group.columns) figures.push(el('figure', {}, image(c.images[index], `${id} ${c.label}`), el('figcaption', {}, c.label)));
    const rows = group.metrics.map((m) => el('tr', {}, el('td', {}, m.label), group.pipelines.map((p) => el('td', {}, m.values[p] ? fmt(m.values[p][index]) : '—'))));
    panel.replaceChildren(
      el('h3', { 'data-item-id': id }, `item ${id}`),
      el('div', { class: 'images' }, figures),
      el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'metric'), group.pipelines.map((p) => el('th', {}, p)))), el('tbody', {}, rows)),
    );
    for (const tr of grid.querySelectorAll('tr[data-item-id]')) tr.classList.toggle('selected', tr.dataset.itemId === id);
  }

  function select(name, options, value) {
    return el('select', { 'data-control': name }, options.map(([v, text]) => el('option', { value: v, selected: v === value }, text)));
  }

  function scatterSpec(group, metric, x, y) {
    const values = [];
    group.ids.forEach((id, index) => {
      const [vx, vy] = [(metric.values[x] || [])[index], (metric.values[y] || [])[index]];
      if (typeof vx === 'number' && typeof vy === 'number') values.push({ id, index, x: vx, y: vy });
    });
    const all = values.flatMap((v) => [v.x, v.y]);
    const [lo, hi] = [Math.min(...all), Math.max(...all)];
    const axis = (field, title) => ({ field, type: 'quantitative', title, scale: { zero: false } });
    return {
      width: 360,
      height: 360,
      title: `${metric.label} per item (${metric.direction === 'higher' ? 'higher' : 'lower'} is better)`,
      layer: [
        { data: { values: values.length > 0 ? [{ x: lo, y: lo }, { x: hi, y: hi }] : [] }, mark: { type: 'line', color: '#999', strokeDash: [4, 4] }, encoding: { x: axis('x', x), y: axis('y', y) } },
        {
          data: { values },
          mark: { type: 'point', filled: true, size: 45, opacity: 0.7, cursor: 'pointer' },
          encoding: {
            x: axis('x', x),
            y: axis('y', y),
            tooltip: [{ field: 'id', title: 'item' }, { field: 'x', title: x, format: '.4f' }, { field: 'y', title: y, format: '.4f' }],
          },
        },
      ],
    };
  }

  function renderGroup(group) {
    const node = el('section', { id: group.id, class: 'item-group', 'data-group': group.id }, el('h3', {}, group.title));
    const panel = el('div', { class: 'detail', 'data-detail': group.id }, el('p', { class: 'note' }, 'Click a point or a grid row to see that item.'));
    const grid = el('table', { class: 'grid', 'data-grid': group.id });
    const show = (index) => detailPanel(group, panel, index, grid);

    // Scatter: one metric, two pipelines, one point per item; a click shows the item.
    // Only metrics two pipelines have (latent metrics belong to the pipelines predicting that space).
    const shared = group.metrics.map((m, i) => [i, m]).filter(([, m]) => Object.keys(m.values).length >= 2);
    if (group.pipelines.length >= 2 && shared.length > 0) {
      const metricSelect = select('scatter-metric', shared.map(([i, m]) => [String(i), m.label]), String(shared[0][0]));
      const missing = el('p', { class: 'note', hidden: true });
      const xSelect = select('scatter-x', group.pipelines.map((p) => [p, p]), group.pipelines[0]);
      const ySelect = select('scatter-y', group.pipelines.map((p) => [p, p]), group.pipelines[1]);
      const box = el('div', { class: 'chart', 'data-scatter': group.id });
      let view;
      const draw = () => {
        if (view) view.finalize();
        view = undefined;
        const metric = group.metrics[Number(metricSelect.value)];
        const lacking = [xSelect.value, ySelect.value].filter((p) => !metric.values[p]);
        missing.hidden = lacking.length === 0;
        missing.textContent = lacking.length === 0 ? '' : `${lacking.join(' and ')} has no ${metric.label}`;
        if (lacking.length > 0) return box.replaceChildren();
        return embed(box, scatterSpec(group, metric, xSelect.value, ySelect.value)).then((result) => {
          view = result;
          result.view.addEventListener('click', (_event, item) => {
            if (item && item.datum && typeof item.datum.index === 'number') show(item.datum.index);
          });
        });
      };
      for (const s of [metricSelect, xSelect, ySelect]) s.addEventListener('change', draw);
      node.append(
        el('div', { class: 'controls' }, el('label', {}, 'metric ', metricSelect), el('label', {}, 'x ', xSelect), el('label', {}, 'y ', ySelect), missing),
        el('div', { class: 'scatter-row' }, box, panel),
      );
      draw();
    } else {
      node.append(el('p', { class: 'note' }, 'One pipeline ran on these items: a scatter plot of two pipelines needs two.'), panel);
    }

    // The grid: one row per item, ground truth then every column; sortable by any metric of any pipeline.
    const sortOptions = [['', 'test order']];
    group.metrics.forEach((m, i) => Object.keys(m.values).forEach((p) => sortOptions.push([`${i}|${p}`, `${m.label} of ${p} (best first)`])));
    const sortSelect = select('sort', sortOptions, '');
    const reverse = el('input', { type: 'checkbox', 'data-control': 'reverse' });
    const drawGrid = () => {
      const [mi, pipeline] = sortSelect.value === '' ? [] : [Number(sortSelect.value.split('|')[0]), sortSelect.value.slice(sortSelect.value.indexOf('|') + 1)];
      const metric = mi === undefined ? undefined : group.metrics[mi];
      const order = sortedItems(group, metric, pipeline, reverse.checked);
      const head = el('tr', {}, el('th', {}, '#'), el('th', {}, 'item'), group.truth ? el('th', {}, 'ground truth') : null, group.columns.map((c) => el('th', {}, c.label)));
      const rows = order.map((index, rank) => {
        const id = group.ids[index];
        const cells = group.columns.map((c) => {
          const value = metric && !c.stage ? (metric.values[c.pipeline] || [])[index] : undefined;
          return el('td', {}, group.truth ? image(c.images[index], `${id} ${c.label}`) : null, value === undefined ? null : el('span', { class: 'value' }, fmt(value)));
        });
        const tr = el('tr', { 'data-item-id': id }, el('td', {}, String(rank + 1)), el('td', { class: 'item-id' }, id), group.truth ? el('td', {}, image(group.truth[index], `${id} ground truth`)) : null, cells);
        tr.addEventListener('click', () => show(index));
        return tr;
      });
      grid.replaceChildren(el('thead', {}, head), el('tbody', {}, rows));
    };
    sortSelect.addEventListener('change', drawGrid);
    reverse.addEventListener('change', drawGrid);
    drawGrid();
    node.append(el('div', { class: 'controls' }, el('label', {}, 'sort items by ', sortSelect), el('label', {}, reverse, ' reverse')));
    if (!group.truth) node.append(el('p', { class: 'note' }, 'This results folder has no saved per-item images (images/index.json): ids and values only.'));
    node.append(el('div', { class: 'table-wrap' }, grid));
    return node;
  }

  const itemsSection = el('section', { id: 'items' }, el('h2', {}, data.items.title), data.items.text.map((t) => el('p', { class: 'note' }, t)), data.items.groups.map(renderGroup));
  const parts = data.sections.map(renderSection);
  // The per-item part comes before provenance (the last section).
  const provenanceIndex = data.sections.findIndex((s) => s.id === 'provenance');
  if (provenanceIndex >= 0) parts.splice(provenanceIndex, 0, itemsSection);
  else parts.push(itemsSection);
  const toc = el('nav', {}, parts.map((p) => el('a', { href: `#${p.id}` }, p.querySelector('h2').textContent)));
  root.append(el('header', {}, el('h1', {}, data.title), el('p', {}, data.subtitle)), toc, ...parts);

  Promise.all(pending).then(
    () => {
      document.body.dataset.ready = 'true';
    },
    (error) => {
      document.body.dataset.ready = 'error';
      root.prepend(el('p', { class: 'note', 'data-error': 'true' }, `a chart could not be drawn: ${error && error.message}`));
      console.error(error);
    },
  );
})();
