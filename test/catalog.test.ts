import { describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { capabilities } from '../tools/index.js';
import { createCatalog } from '../src/catalog/lookup.js';
import { searchCapabilities } from '../src/catalog/search.js';
import { buildOpenApi } from '../src/catalog/openapi.js';
import { inputJsonSchemaOf } from '../src/catalog/schemas.js';
import { findResultImages } from '../src/results/result-fields.js';
import { ACTIONS as EMULATED_ACTIONS } from './emulator/actions.js';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ACTIONS = [
  'SegmentBody', 'SegmentHead', 'SegmentFace', 'SegmentHair', 'ParseFace', 'SegmentSkin', 'SegmentCommodity', 'SegmentFurniture',
  'SegmentCloth', 'SegmentCommonImage', 'SegmentVehicle', 'SegmentAnimal', 'SegmentSky', 'SegmentFood', 'SegmentLogo', 'SegmentScene',
  'SegmentHDBody', 'RefineMask', 'SegmentHDSky', 'SegmentHDCommonImage', 'ChangeSky', 'GetAsyncJobResult',
];

describe('catalog', () => {
  const catalog = createCatalog(capabilities);

  it('has one descriptor for each Alibaba imageseg Action', () => {
    expect(capabilities.map((capability) => capability.action).sort()).toEqual([...ACTIONS].sort());
  });

  it('says in each descriptor where its result images sit, as the emulated reference answers', () => {
    for (const capability of capabilities) {
      const fields = EMULATED_ACTIONS.get(capability.action)!.dataFields;
      if (capability.resultShape === 'Job') expect(capability.jobResult).toBeDefined();
      else if (capability.resultShape.startsWith('Elements')) expect(fields).toContain('Elements');
      else expect(fields).toContain(capability.resultShape);
    }
    const data = { OriginImageURL: 'o', Elements: [{ ImageURL: 'a', OriginImageURL: 'o' }, { ClassUrl: { tops: 'c' } }], Status: 'PROCESS_SUCCESS' };
    expect(findResultImages(data, 'ElementsWithOrigin')).toEqual([{ path: 'Elements[0].ImageURL', url: 'a' }]);
    expect(findResultImages({ ImageUrl: 'u', JobId: 'j' }, 'ImageUrl')).toEqual([{ path: 'ImageUrl', url: 'u' }]);
    expect(findResultImages({ ImageUrl: 'u', JobId: 'j' }, 'ImageURL')).toEqual([]);
    expect(findResultImages({ JobId: 'j', Status: 'PROCESS_SUCCESS', ImageUrl: 'u' }, 'Job')).toEqual([{ path: 'ImageUrl', url: 'u' }]);
  });

  it('gives each image parameter one role, one primary image per capability, and describes it from its limits', () => {
    for (const capability of capabilities) {
      const images = Object.entries(capability.images);
      if (images.length === 0) continue;
      expect(images.filter(([, image]) => image?.role === 'primary')).toHaveLength(1);
      for (const [field, image] of images) {
        const description = (inputJsonSchemaOf(capability) as { properties: Record<string, { description: string }> }).properties[field].description;
        expect(description).toContain(`at most ${Number((image!.maxBytes / 1024 / 1024).toFixed(2))} MB`);
        if (image!.maxSide) expect(description).toContain(`smaller than ${image!.maxSide}x${image!.maxSide} pixels`);
        if (image!.minSide) expect(description).toContain(`larger than ${image!.minSide}x${image!.minSide}`);
      }
    }
  });

  it('knows an Action only in its descriptor (and GetAsyncJobResult in the Alibaba job poller)', () => {
    const files = (folder: string): string[] =>
      readdirSync(folder, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? files(path.join(folder, entry.name)) : entry.name.endsWith('.ts') ? [path.join(folder, entry.name)] : []));
    const naming = new Map<string, string[]>();
    for (const file of files('src')) {
      const source = readFileSync(file, 'utf8');
      const named = capabilities.map((capability) => capability.action).filter((action) => new RegExp(`['"\`]${action}['"\`]`).test(source));
      if (named.length > 0) naming.set(file.split(path.sep).join('/'), named);
    }
    expect(Object.fromEntries(naming)).toEqual({ 'src/providers/alibaba/jobs.ts': ['GetAsyncJobResult'] });
  });

  it('names every tool after its serviceId and keeps the seeds\' ids', () => {
    for (const capability of capabilities) expect(capability.tool).toBe(capability.serviceId.replaceAll('-', '_'));
    expect(catalog.find('product-background-removal')?.action).toBe('SegmentCommodity');
    expect(catalog.find('aliyun-imageseg-segment-commodity')?.serviceId).toBe('product-background-removal');
    expect(catalog.find('mask-refinement')?.action).toBe('RefineMask');
    expect(catalog.find('aliyun-imageseg-refine-mask')?.serviceId).toBe('mask-refinement');
    expect(catalog.find('async_job_result')?.price).toBeNull();
  });

  it('finds a capability by serviceId, legacy id, tool name or Action, case-insensitively', () => {
    for (const key of ['PRODUCT-BACKGROUND-REMOVAL', 'Aliyun-Imageseg-Segment-Commodity', 'Product_Background_Removal', 'segmentcommodity']) {
      expect(catalog.find(key)?.serviceId).toBe('product-background-removal');
    }
    expect(catalog.find('no-such-thing')).toBeUndefined();
  });

  it('uses Alibaba parameter names exactly, which differ per Action', () => {
    const required = (id: string) => (inputJsonSchemaOf(catalog.find(id)!) as { required?: string[] }).required;
    expect(required('SegmentCommodity')).toEqual(['ImageURL']);
    expect(required('SegmentSkin')).toEqual(['URL']);
    expect(required('SegmentHDCommonImage')).toEqual(['ImageUrl']);
    expect(required('ChangeSky')).toEqual(expect.arrayContaining(['ImageURL', 'ReplaceImageURL']));
    expect(required('RefineMask')).toEqual(expect.arrayContaining(['ImageURL', 'MaskImageURL']));
    expect(required('GetAsyncJobResult')).toEqual(['JobId']);
  });

  it('ranks the obvious capability first for everyday queries', () => {
    const top = (query: string) => searchCapabilities(capabilities, query)[0]?.capability.serviceId;
    expect(top('product-background-removal')).toBe('product-background-removal');
    expect(top('SegmentCommodity')).toBe('product-background-removal');
    expect(top('refine mask')).toBe('mask-refinement');
    expect(top('replace the sky')).toBe('sky-replacement');
    expect(top('hair')).toBe('hair-segmentation');
    expect(top('商品分割')).toBe('product-background-removal');
    const sky = searchCapabilities(capabilities, 'sky').slice(0, 3).map((hit) => hit.capability.action);
    expect(sky.sort()).toEqual(['ChangeSky', 'SegmentHDSky', 'SegmentSky']);
    expect(searchCapabilities(capabilities, 'zzzz-nothing-matches')).toEqual([]);
    expect(searchCapabilities(capabilities, '')).toHaveLength(capabilities.length);
  });

  it('publishes a valid OpenAPI 3.1 document covering every endpoint', async () => {
    const document = buildOpenApi(capabilities, { serverUrl: 'http://127.0.0.1:8402', version: '0.0.0', available: () => true });
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const paths = Object.keys(document.paths as object);
    for (const capability of capabilities) {
      expect(paths).toContain(`/api/tools/${capability.serviceId}`);
      for (const legacyId of capability.legacyIds) expect(paths).toContain(`/api/tools/${legacyId}`);
    }
    for (const path of ['/api/catalog/search', '/openapi.json', '/services/{serviceId}', '/results/{resultId}', '/healthz', '/metrics', '/mcp']) expect(paths).toContain(path);
    for (const path of ['/api/payments', '/api/payments/{token}', '/api/admin/tokens', '/api/admin/tokens/{token}']) expect(paths).toContain(path);
    for (const path of ['/api/batch/{serviceId}', '/.well-known/mcp/server-card.json']) expect(paths).toContain(path);
    const product = (document.paths as Record<string, any>)['/api/tools/product-background-removal'].post;
    expect(Object.keys(product.requestBody.content)).toEqual(['application/json', 'multipart/form-data', 'image/*']);
    expect(product.requestBody.content['multipart/form-data'].schema.properties.ImageURL.format).toBe('binary');
    expect(Object.keys(product.responses['200'].content)).toEqual(['application/json', 'image/png', 'image/webp', 'image/jpeg']);
  });
});
