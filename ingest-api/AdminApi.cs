using System.ComponentModel.DataAnnotations;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.IngestApi;

/// <summary><c>/v1/admin</c>: tenants and plans, for the operator (<c>X-Admin-Key</c>, checked by <see cref="AdminGate"/> before any body is read).</summary>
public static class AdminApi
{
    public sealed record CreateTenantRequest([property: Required] string? Name, [property: Required] string? Plan);

    public sealed record ChangePlanRequest([property: Required] string? Plan);

    public sealed record TenantResponse(string TenantId, string Name, string Plan, DateTimeOffset CreatedAt);

    public sealed record CreatedTenantResponse(string TenantId, string Name, string Plan, DateTimeOffset CreatedAt, string ApiKey, string ApiKeyPrefix);

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/v1/admin").WithTags("admin");

        admin.MapPost("/tenants", async (CreateTenantRequest? body, TenantService tenants, CancellationToken ct) =>
            {
                if (body is null)
                {
                    throw Problems.MissingBody("name and plan");
                }

                var (tenant, key) = await tenants.CreateTenantAsync(body.Name, body.Plan, ct);
                return Results.Created($"/v1/admin/tenants/{tenant.TenantId}",
                    new CreatedTenantResponse(tenant.TenantId, tenant.Name, tenant.Plan, tenant.CreatedAt, key.Key, key.Info.Prefix));
            })
            .Produces<CreatedTenantResponse>(StatusCodes.Status201Created)
            .WithName("CreateTenant").WithSummary("Creates a tenant on a plan; the API key is shown once.");

        admin.MapGet("/tenants", async (TenantService tenants, CancellationToken ct) =>
                Results.Ok((await tenants.ListTenantsAsync(ct)).Select(ToResponse)))
            .Produces<IReadOnlyList<TenantResponse>>()
            .WithName("ListTenants").WithSummary("Lists tenants.");

        admin.MapGet("/tenants/{tenantId}", async (string tenantId, TenantService tenants, CancellationToken ct) =>
                await tenants.GetTenantAsync(tenantId, ct) is { } tenant
                    ? Results.Ok(ToResponse(tenant))
                    : Results.Problem(statusCode: 404, title: "Not found", detail: $"no tenant '{tenantId}'"))
            .Produces<TenantResponse>()
            .WithName("GetTenant").WithSummary("One tenant.");

        admin.MapPatch("/tenants/{tenantId}", async (string tenantId, ChangePlanRequest? body, TenantService tenants, CancellationToken ct) =>
                body is null
                    ? throw Problems.MissingBody("plan")
                    : Results.Ok(ToResponse(await tenants.SetPlanAsync(tenantId, body.Plan, ct))))
            .Produces<TenantResponse>()
            .WithName("ChangePlan").WithSummary("Changes a tenant's plan.");
        admin.MapKeyRotation();
        return app;
    }

    private static TenantResponse ToResponse(Tenant t) => new(t.TenantId, t.Name, t.Plan, t.CreatedAt);
}
