// Covers: the record's own link when it has one (extra.cover, extra.image_url...), else a
// placeholder drawn here as SVG from the title and the creator, its colour from a hash of the
// title, so that the same book always looks the same.
const SVG = 'http://www.w3.org/2000/svg';

function hash(s) {
  let x = 2166136261;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 16777619);
  return x >>> 0;
}

// Lines of at most width characters, at most max lines (the last one cut with an ellipsis).
function wrap(text, width, max) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && (line + ' ' + word).length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  if (lines.length > max) {
    lines.length = max;
    lines[max - 1] = lines[max - 1].slice(0, width - 1) + '…';
  }
  return lines.map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l));
}

export function placeholder(title, creator) {
  const hue = hash(title || '?') % 360;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 120 180');
  svg.setAttribute('class', 'cover');
  svg.setAttribute('aria-hidden', 'true');
  const bg = document.createElementNS(SVG, 'rect');
  bg.setAttribute('width', '120');
  bg.setAttribute('height', '180');
  bg.setAttribute('fill', `hsl(${hue} 45% 28%)`);
  const band = document.createElementNS(SVG, 'rect');
  band.setAttribute('y', '130');
  band.setAttribute('width', '120');
  band.setAttribute('height', '50');
  band.setAttribute('fill', `hsl(${(hue + 40) % 360} 35% 18%)`);
  svg.append(bg, band);
  const text = (lines, y, size, weight) => lines.forEach((l, i) => {
    const el = document.createElementNS(SVG, 'text');
    el.setAttribute('x', '60');
    el.setAttribute('y', String(y + i * (size + 3)));
    el.setAttribute('font-size', String(size));
    el.setAttribute('font-weight', weight);
    el.setAttribute('text-anchor', 'middle');
    el.setAttribute('fill', '#ffffff');
    el.textContent = l;
    svg.append(el);
  });
  text(wrap(title || '?', 16, 5), 28, 12, 'bold');
  text(wrap(creator || '', 20, 2), 150, 9, 'normal');
  return svg;
}

// The record's cover link, when it has an http(s) one.
export function coverLink(rec) {
  const x = (rec && rec.extra) || {};
  const d = (rec && rec.details) || {};
  const url = d.cover || x.cover || x.cover_url || x.image_url || x.image || '';
  return /^https?:\/\//.test(url) ? url : '';
}

export function cover(title, creator, rec) {
  const url = coverLink(rec);
  if (!url) return placeholder(title, creator);
  const img = document.createElement('img');
  img.className = 'cover';
  img.alt = '';
  img.loading = 'lazy';
  img.referrerPolicy = 'no-referrer';
  img.src = url;
  // A broken link falls back to the placeholder.
  img.addEventListener('error', () => img.replaceWith(placeholder(title, creator)), { once: true });
  return img;
}
