/**
 * The fitted ROI graph as GEXF 1.3 (Gephi) and GraphML (yEd, NetworkX, igraph), for inspection: nodes carry their
 * ROIs and voxel count, edges their weight (Pearson r) — the same graph the model propagates over.
 */
import { graphNodes, type RoiGraph } from './graph.js';

function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

interface ExportEdge {
  source: string;
  target: string;
  weight: number;
}

function edgesOf(graph: RoiGraph): ExportEdge[] {
  return graph.mapEdges((_key, attributes, source, target) => ({ source, target, weight: attributes.weight }));
}

export function toGexf(graph: RoiGraph): string {
  const { direction, threshold } = graph.getAttributes();
  const type = graph.type === 'directed' ? 'directed' : 'undirected';
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<gexf xmlns="http://gexf.net/1.3" version="1.3">',
    '  <meta>',
    '    <creator>neurodecode chebnet-gcn</creator>',
    `    <description>ROI functional-connectivity graph (Pearson r of node mean activity on training trials, |r| &gt; ${threshold}, ${escapeXml(direction)})</description>`,
    '  </meta>',
    `  <graph mode="static" defaultedgetype="${type}">`,
    '    <attributes class="node">',
    '      <attribute id="rois" title="rois" type="string"/>',
    '      <attribute id="voxels" title="voxels" type="integer"/>',
    '    </attributes>',
    '    <nodes>',
  ];
  for (const node of graphNodes(graph)) {
    const key = escapeXml(node.key);
    lines.push(
      `      <node id="${key}" label="${key}">`,
      '        <attvalues>',
      `          <attvalue for="rois" value="${escapeXml(node.rois.join(','))}"/>`,
      `          <attvalue for="voxels" value="${node.voxels.length}"/>`,
      '        </attvalues>',
      '      </node>',
    );
  }
  lines.push('    </nodes>', '    <edges>');
  edgesOf(graph).forEach((e, i) => {
    lines.push(`      <edge id="${i}" source="${escapeXml(e.source)}" target="${escapeXml(e.target)}" weight="${e.weight}"/>`);
  });
  lines.push('    </edges>', '  </graph>', '</gexf>', '');
  return lines.join('\n');
}

export function toGraphml(graph: RoiGraph): string {
  const edgedefault = graph.type === 'directed' ? 'directed' : 'undirected';
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">',
    '  <key id="rois" for="node" attr.name="rois" attr.type="string"/>',
    '  <key id="voxels" for="node" attr.name="voxels" attr.type="int"/>',
    '  <key id="weight" for="edge" attr.name="weight" attr.type="double"/>',
    `  <graph id="roi-graph" edgedefault="${edgedefault}">`,
  ];
  for (const node of graphNodes(graph)) {
    lines.push(
      `    <node id="${escapeXml(node.key)}">`,
      `      <data key="rois">${escapeXml(node.rois.join(','))}</data>`,
      `      <data key="voxels">${node.voxels.length}</data>`,
      '    </node>',
    );
  }
  edgesOf(graph).forEach((e, i) => {
    lines.push(
      `    <edge id="e${i}" source="${escapeXml(e.source)}" target="${escapeXml(e.target)}">`,
      `      <data key="weight">${e.weight}</data>`,
      '    </edge>',
    );
  });
  lines.push('  </graph>', '</graphml>', '');
  return lines.join('\n');
}
