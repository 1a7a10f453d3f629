// enketo-core's global configuration for the harness (esbuild aliases `enketo/config` here).
// The one change from enketo-core's own: map tiles from loopback, where the fixture answers
// 404, so the geopoint widget never reaches for the internet; points are typed in.
export default {
    experimentalOptimizations: { computeAsync: false },
    excludeNonRelevant: false,
    maps: [{ name: 'none', tiles: ['/tiles/{z}/{x}/{y}.png'], attribution: '' }],
    googleApiKey: '',
    repeatOrdinals: false,
    validateContinuously: false,
    validatePage: true,
    swipePage: true,
    textMaxChars: 2000,
};
