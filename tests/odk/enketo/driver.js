// The ODK tests' client: Enketo's transformer (the browser's XSLT) and Enketo's form engine,
// bundled by tests/odk/conftest.py with esbuild and driven by Playwright. It discovers the
// form through the OpenRosa form list and manifest, as a client does, and hands back the
// record and its attachments exactly as Enketo produces them.
import { transform } from 'enketo-transformer/web';
import { Form } from 'enketo-core';
import events from 'enketo-core/src/js/event';
import fileManager from 'enketo-core/src/js/file-manager';
import Papa from 'papaparse';

const OPENROSA = { 'X-OpenRosa-Version': '1.0' };
const LIST_NS = 'http://openrosa.org/xforms/xformsList';
const MANIFEST_NS = 'http://openrosa.org/xforms/xformsManifest';

let form = null;
let opened = null;

async function fetchText(url) {
    const response = await fetch(url, { headers: OPENROSA });
    if (!response.ok) {
        throw new Error(`${url}: HTTP ${response.status}`);
    }
    return response.text();
}

function parseXml(text, what) {
    const doc = new DOMParser().parseFromString(text, 'text/xml');
    if (doc.querySelector('parsererror')) {
        throw new Error(`${what} is not well-formed XML`);
    }
    return doc;
}

function childText(element, ns, name) {
    const found = element.getElementsByTagNameNS(ns, name)[0];
    return found ? found.textContent : null;
}

// What Enketo Express does with a CSV form attachment: one <item> per row, one child per column.
function csvToInstance(text) {
    const parsed = Papa.parse(text.replace(/^\uFEFF/, ''), { skipEmptyLines: true });
    if (parsed.errors.length) {
        throw new Error(`CSV: ${parsed.errors[0].message}`);
    }
    const [header, ...rows] = parsed.data;
    const doc = document.implementation.createDocument(null, 'root', null);
    for (const row of rows) {
        const item = doc.createElement('item');
        header.forEach((column, index) => {
            const cell = doc.createElement(column);
            cell.textContent = row[index] ?? '';
            item.appendChild(cell);
        });
        doc.documentElement.appendChild(item);
    }
    return doc;
}

async function discover(formListUrl, formId) {
    const list = parseXml(await fetchText(formListUrl), 'formList');
    const xforms = [...list.getElementsByTagNameNS(LIST_NS, 'xform')];
    const entry = xforms.find((x) => childText(x, LIST_NS, 'formID') === formId);
    if (!entry) {
        throw new Error(`form ${formId} is not in the form list`);
    }
    const media = {};
    const manifestUrl = childText(entry, LIST_NS, 'manifestUrl');
    if (manifestUrl) {
        const manifest = parseXml(await fetchText(manifestUrl), 'manifest');
        for (const file of manifest.getElementsByTagNameNS(MANIFEST_NS, 'mediaFile')) {
            const name = childText(file, MANIFEST_NS, 'filename');
            media[name] = await fetchText(childText(file, MANIFEST_NS, 'downloadUrl'));
        }
    }
    return {
        xform: await fetchText(childText(entry, LIST_NS, 'downloadUrl')),
        version: childText(entry, LIST_NS, 'version'),
        media,
    };
}

function render(record = null) {
    const container = document.querySelector('#container');
    if (form) {
        form.resetView();
    }
    container.innerHTML = opened.transformed.form;
    const external = [...opened.xformDoc.querySelectorAll('model > instance[src]')].map(
        (instance) => {
            const name = instance.getAttribute('src').replace(/^jr:\/\/file(-csv)?\//, '');
            if (!(name in opened.media)) {
                return { id: instance.id };
            }
            return { id: instance.id, xml: csvToInstance(opened.media[name]) };
        }
    );
    form = new Form(container.querySelector('form.or'), {
        modelStr: opened.transformed.model,
        instanceStr: record,
        submitted: record != null,
        external,
    });
    return form.init();
}

async function blobToBase64(blob) {
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
        binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
}

window.harness = {
    // Form list → XForm + manifest media → Enketo's transform → a live form.
    async open(formListUrl, formId) {
        const found = await discover(formListUrl, formId);
        const transformed = await transform({ xform: found.xform });
        opened = {
            ...found,
            transformed,
            xformDoc: parseXml(found.xform, 'XForm'),
        };
        const loadErrors = render();
        return { loadErrors, version: found.version, languages: form.languages };
    },

    // Open a finished record again for editing, as Enketo does for a sent submission.
    edit(recordXml) {
        return render(recordXml);
    },

    // The record as it stands, unvalidated (what a saved draft holds).
    draft() {
        return form.model.getStr();
    },

    // What Enketo Express does on Submit: stamp the end time, validate, take the record and
    // its files.
    async record() {
        form.view.html.dispatchEvent(events.BeforeSave());
        const valid = await form.validate();
        if (!valid) {
            const invalid = [...document.querySelectorAll('.invalid-required, .invalid-constraint')];
            return {
                valid,
                // Radio groups get a generated name; their path is in data-name.
                invalid: invalid.map((question) => {
                    const control = question.querySelector('[data-name], [name]');
                    return control?.dataset.name || control?.getAttribute('name');
                }),
            };
        }
        const files = await Promise.all(
            fileManager.getCurrentFiles().map(async (file) => ({
                name: file.name,
                type: file.type,
                base64: await blobToBase64(file),
            }))
        );
        return {
            valid,
            xml: form.getDataStr(),
            instanceID: form.instanceID,
            deprecatedID: form.deprecatedID,
            files,
        };
    },
};
