import('./test/setup/image.ts').then((m) => m.default())
