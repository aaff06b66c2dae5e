import { describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { capabilities } from '../tools/index.js';
import { createCatalog } from '../src/catalog/lookup.js';
import { searchCapabilities } from '../src/catalog/search.js';
import { buildOpenApi } from '../src/catalog/openapi.js';
import { inputJsonSchemaOf } from '../src/catalog/schemas.js';

const ACTIONS = [
  'SegmentBody', 'SegmentHead', 'SegmentFace', 'SegmentHair', 'ParseFace', 'SegmentSkin', 'SegmentCommodity', 'SegmentFurniture',
  'SegmentCloth', 'SegmentCommonImage', 'SegmentVehicle', 'SegmentAnimal', 'SegmentSky', 'SegmentFood', 'SegmentLogo', 'SegmentScene',
  'SegmentHDBody', 'RefineMask', 'SegmentHDSky', 'SegmentHDCommonImage', 'ChangeSky', 'GetAsyncJobResult',
];

describe('catalog', () => {
  const catalog = createCatalog(capabilities);

  it('has one descriptor for each of the 22 Alibaba imageseg Actions', () => {
    expect(capabilities.map((capability) => capability.action).sort()).toEqual([...ACTIONS].sort());
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
    expect(searchCapabilities(capabilities, '')).toHaveLength(22);
  });

  it('publishes a valid OpenAPI 3.1 document covering every endpoint', async () => {
    const document = buildOpenApi(capabilities, { serverUrl: 'http://127.0.0.1:8402', version: '0.0.0', available: () => true });
    const result = await new Validator().validate(document as unknown as Parameters<Validator['validate']>[0]);
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
