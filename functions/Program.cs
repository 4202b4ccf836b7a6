using RelayFunctions.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddRelayFunctions();
var app = builder.Build();
app.UseRelayFunctions();
app.Run();

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
