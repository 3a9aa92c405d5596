// How images reach this terminal (detected once at start, src/terminal/detect.ts) and the painter that
// draws the ones Ink cannot.
import React, { createContext, useContext } from 'react';
import { colourDepth, type Graphics } from '../terminal/detect.js';
import type { ImagePainter } from '../terminal/painter.js';

export interface GraphicsState {
  graphics: Graphics;
  painter: ImagePainter | null;
}

const GraphicsContext = createContext<GraphicsState | null>(null);

export function GraphicsProvider({ value, children }: { value: GraphicsState; children: React.ReactNode }) {
  return <GraphicsContext.Provider value={value}>{children}</GraphicsContext.Provider>;
}

export function useGraphics(): GraphicsState {
  const state = useContext(GraphicsContext);
  if (state) return state;
  // Without a provider (tests, benches): half blocks in 24-bit colour unless colour is off.
  const colour = colourDepth(process.env) === 'none' ? 'none' : 'truecolor';
  return { graphics: { protocol: 'blocks', colour, cell: null, passthrough: false, reason: 'no detection' }, painter: null };
}
